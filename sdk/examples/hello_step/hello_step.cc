// hello_step: an example step plugin with one kind, example.greeting.
//
// For each tenant it keeps a file <example.dir>/<slug>.greeting holding a greeting. observe
// compares the file with what it should hold, apply writes it (atomically, so a crash never
// leaves half a file), remove deletes it. The directory comes from the runner's [targets]
// setting "example.dir"; the greeting word from "example.greeting" (default "Hello").
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <matih/step.hpp>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

class Greeting final : public matih::Step {
 public:
  matih::Observation observe(matih::Context& ctx) override {
    const fs::path path = File(ctx);
    std::ifstream in(path, std::ios::binary);
    if (!in) return matih::Observation::Absent();
    std::ostringstream actual;
    actual << in.rdbuf();
    if (actual.str() == Content(ctx)) return matih::Observation::InSync();
    return matih::Observation::Drifted(path.string() + " holds another greeting");
  }

  void apply(matih::Context& ctx) override {
    ctx.check_cancelled();
    const fs::path path = File(ctx);
    if (observe(ctx).state == matih::Observation::State::kInSync) {
      ctx.set_output("path", path.string());
      return;  // converged: write nothing
    }
    const fs::path temp = path.string() + ".tmp";
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      out << Content(ctx);
      out.flush();
      if (!out) throw matih::TransientError("cannot write " + temp.string());
    }
    std::error_code ec;
    fs::rename(temp, path, ec);
    if (ec) throw matih::TransientError("cannot rename " + temp.string() + ": " + ec.message());
    ctx.set_output("path", path.string());
    ctx.info("wrote " + path.string());
  }

  void remove(matih::Context& ctx) override {
    const fs::path path = File(ctx);
    std::error_code ec;
    if (fs::remove(path, ec)) ctx.info("removed " + path.string());
    if (ec) throw matih::TransientError("cannot remove " + path.string() + ": " + ec.message());
  }

 private:
  static fs::path File(const matih::Context& ctx) {
    const std::string slug = ctx.slug();
    // The slug is an RFC 1035 label; check anyway, since it becomes part of a path.
    if (slug.empty() ||
        slug.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
      throw matih::InvalidArgument("tenant slug '" + slug + "' is not a DNS label");
    }
    const fs::path dir = ctx.required_setting("example.dir");
    if (!fs::is_directory(dir))
      throw matih::PermanentError("example.dir " + dir.string() + " is not a directory");
    return dir / (slug + ".greeting");
  }

  static std::string Content(const matih::Context& ctx) {
    return ctx.setting("example.greeting").value_or("Hello") + ", " + ctx.slug() + " (" + ctx.tier() + ")!\n";
  }
};

}  // namespace

MATIH_PLUGIN("hello-step", "1.0.0") {
  plugin.setting("example.dir", "directory of the tenants' greeting files", MATIH_SETTING_REQUIRED);
  plugin.setting("example.greeting", "the greeting word (default Hello)");
  plugin.add<Greeting>("example.greeting", "Keeps a greeting file per tenant in example.dir");
}
