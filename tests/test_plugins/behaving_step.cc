// A test plugin: step kinds whose behaviour the test chooses through the step's params.
//
// Kind "test.file" keeps one file per tenant and step under the setting test.state_dir:
//   <state_dir>/<slug>/<step>          the "real target"; content = params.value (default "ok")
//   <state_dir>/<slug>/journal         one line per apply/remove, to check order
//   <state_dir>/<slug>/<step>.calls    how many times each operation ran
// Params (all optional):
//   value: desired content
//   fail: "transient" | "permanent"; fail_on: "observe" | "apply" | "remove" (default apply);
//   fail_times: fail the first N calls of that operation (default: always)
//   hang_ms: apply sleeps this long, polling the cancel flag; ignore_cancel: true to not poll
//   output: an output key to set to the file path (or to output_value when given)
//   observe_output: true to have an in-sync observe set that output too, as an adoptable kind must
//   dir_setting: the setting naming the folder instead of test.state_dir (test.placed_dir)
//   require_output: "step:key" that must be present (checks outputs of earlier steps)
//   secret: after the hang, apply stores this secret ("value-of-<slug>") and records the store's
//           answer in <state_dir>/<slug>/<step>.secret: "stored", or "refused <status>" (then fails)
// Kind "test.adopted_file" is test.file declared adoptable (MATIH_KIND_ADOPTABLE).
// Kind "test.noop" does no outside work: its only state is its own step output "applied",
// recorded by the runner, so observe answers IN_SYNC once a run has applied it. The benchmark
// uses it to measure the runner itself.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <matih/step.hpp>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

namespace {

namespace fs = std::filesystem;

// Minimal reader for the flat params objects these tests use: {"k": "v", "n": 3, "b": true}.
std::string Param(const std::string& json, const std::string& key, const std::string& fallback = "") {
  const std::string needle = "\"" + key + "\"";
  auto at = json.find(needle);
  if (at == std::string::npos) return fallback;
  auto colon = json.find(':', at + needle.size());
  if (colon == std::string::npos) return fallback;
  auto start = json.find_first_not_of(" \t\n", colon + 1);
  if (start == std::string::npos) return fallback;
  if (json[start] == '"') {
    auto end = json.find('"', start + 1);
    return json.substr(start + 1, end - start - 1);
  }
  auto end = json.find_first_of(",}", start);
  std::string raw = json.substr(start, end - start);
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n')) raw.pop_back();
  return raw;
}

std::mutex g_files;  // tenants run on several threads; the journal is shared per tenant

class FileStep final : public matih::Step {
 public:
  matih::Observation observe(matih::Context& ctx) override {
    Enter(ctx, "observe");
    fs::path file = Target(ctx);
    if (!fs::exists(file)) return matih::Observation::Absent();
    std::string have = Read(file);
    std::string want = Param(ctx.params_json(), "value", "ok");
    if (have != want) return matih::Observation::Drifted("content '" + have + "' should be '" + want + "'");
    const std::string key = Param(ctx.params_json(), "output");
    if (!key.empty() && Param(ctx.params_json(), "observe_output") == "true")
      ctx.set_output(key, Param(ctx.params_json(), "output_value", file.string()));
    return matih::Observation::InSync();
  }

  void apply(matih::Context& ctx) override {
    Enter(ctx, "apply");
    const std::string params = ctx.params_json();
    std::string required = Param(params, "require_output");
    if (!required.empty()) {
      auto colon = required.find(':');
      if (!ctx.output(required.substr(0, colon), required.substr(colon + 1)))
        throw matih::PermanentError("missing output " + required);
    }
    long hang = std::stol(Param(params, "hang_ms", "0"));
    bool ignore_cancel = Param(params, "ignore_cancel") == "true";
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(hang);
    while (std::chrono::steady_clock::now() < until) {
      if (!ignore_cancel && ctx.cancelled())
        throw matih::Error(MATIH_STATUS_CANCELLED, "cancelled while hanging");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (std::string secret = Param(params, "secret"); !secret.empty()) {
      std::string answer = "stored";
      try {
        ctx.put_secret(secret, "value-of-" + ctx.slug());
      } catch (const matih::Error& e) {
        answer = "refused " + std::to_string(e.code());
      }
      const fs::path marker = Target(ctx).string() + ".secret";
      fs::create_directories(marker.parent_path());
      std::ofstream(marker, std::ios::trunc) << answer;
      if (answer != "stored") throw matih::Error(MATIH_STATUS_ABORTED, "the secret was refused");
    }
    std::lock_guard<std::mutex> lock(g_files);
    fs::path file = Target(ctx);
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::trunc) << Param(params, "value", "ok");
    std::ofstream(file.parent_path() / "journal", std::ios::app) << "apply " << ctx.step_name() << "\n";
    std::string key = Param(params, "output");
    if (!key.empty()) ctx.set_output(key, Param(params, "output_value", file.string()));
  }

  void remove(matih::Context& ctx) override {
    Enter(ctx, "remove");
    std::lock_guard<std::mutex> lock(g_files);
    fs::path file = Target(ctx);
    fs::remove(file);
    fs::create_directories(file.parent_path());
    std::ofstream(file.parent_path() / "journal", std::ios::app) << "remove " << ctx.step_name() << "\n";
  }

 private:
  static fs::path Target(matih::Context& ctx) {
    const std::string dir = Param(ctx.params_json(), "dir_setting", "test.state_dir");
    return fs::path(ctx.required_setting(dir)) / ctx.slug() / ctx.step_name();
  }

  static std::string Read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Counts the call and fails it when the params say so.
  static void Enter(matih::Context& ctx, const std::string& op) {
    const std::string params = ctx.params_json();
    int n = 0;
    {
      std::lock_guard<std::mutex> lock(g_files);
      fs::path counter = Target(ctx).string() + "." + op + ".calls";
      fs::create_directories(counter.parent_path());
      n = std::atoi(Read(counter).c_str()) + 1;
      std::ofstream(counter, std::ios::trunc) << n;
    }
    std::string fail = Param(params, "fail");
    if (fail.empty() || Param(params, "fail_on", "apply") != op) return;
    long times = std::stol(Param(params, "fail_times", "-1"));
    if (times >= 0 && n > times) return;
    if (fail == "transient")
      throw matih::TransientError(op + " failed transiently (call " + std::to_string(n) + ")");
    throw matih::PermanentError(op + " failed permanently (call " + std::to_string(n) + ")");
  }
};

// Does no outside work: in sync once the runner has recorded its output. For the benchmark.
class NoopStep final : public matih::Step {
 public:
  matih::Observation observe(matih::Context& ctx) override {
    return ctx.output(ctx.step_name(), "applied") ? matih::Observation::InSync()
                                                  : matih::Observation::Absent();
  }
  void apply(matih::Context& ctx) override { ctx.set_output("applied", "1"); }
  void remove(matih::Context&) override {}
};

}  // namespace

MATIH_PLUGIN("matih-test-steps", "0.1.0") {
  plugin.setting("test.state_dir", "folder of the test steps' per-tenant files", MATIH_SETTING_REQUIRED);
  plugin.setting("test.placed_dir", "folder of the files of steps with dir_setting: test.placed_dir");
  plugin.add<FileStep>("test.file", "Test double: a file per tenant and step, with failures on demand");
  plugin.add<NoopStep>("test.noop", "Test double: no outside work (benchmark)");
  // test.adopted_file is test.file declared adoptable: its observe reads the file an apply wrote
  // (and <step>.calls counts every apply), so the runner may commit its intent and result late.
  // test.noop makes nothing outside: an apply whose result was lost leaves nothing to find.
  plugin.add<FileStep>("test.adopted_file", "Test double: test.file, declared adoptable");
  plugin.adoptable("test.adopted_file");
  plugin.adoptable("test.noop");
}
