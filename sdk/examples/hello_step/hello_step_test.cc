// hello_step_test: the example kind tested with <matih/testing.hpp>, no runner and no database.
//
//   hello_step_test                 drives the plugin linked into this program
//   hello_step_test PLUGIN.so       drives the built plugin file, loaded as the runner loads it
//
// A plain program (no test framework): each CHECK that fails prints the line and the answer,
// and the exit code is the number of failed checks.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <matih/testing.hpp>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;
int failures = 0;

#define CHECK(cond, answer_or_text)                                                    \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed: %s\n", __FILE__, __LINE__, #cond, \
                   std::string(answer_or_text).c_str());                               \
      ++failures;                                                                      \
    }                                                                                  \
  } while (0)

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

ino_t Inode(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

// A fresh directory for the plugin's files, removed at exit.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "hello-step-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

constexpr const char* kKind = "example.greeting";

void Lifecycle(matih::testing::Host& host) {
  ScratchDir dir;
  host.tenant("acme", "starter").setting("example.dir", dir.path.string()).setting("example.greeting", "Hi");
  const fs::path file = dir.path / "acme.greeting";

  auto seen = host.observe(kKind);
  CHECK(seen.absent(), seen.describe());
  auto applied = host.apply(kKind);
  CHECK(applied.ok(), applied.describe());
  CHECK(applied.outputs.count("path") && applied.outputs.at("path") == file.string(), applied.describe());
  CHECK(host.outputs().count("path") == 1, "the output was not recorded for later steps");
  CHECK(Read(file) == "Hi, acme (starter)!\n", Read(file));
  CHECK(host.logged("wrote " + file.string()), "no log line about the write");
  seen = host.observe(kKind);
  CHECK(seen.in_sync(), seen.describe());

  // Converged: a second apply writes nothing (the file keeps its inode).
  const ino_t before = Inode(file);
  applied = host.apply(kKind);
  CHECK(applied.ok(), applied.describe());
  CHECK(Inode(file) == before, "the second apply rewrote the file");

  // A hand change is drift, with a diff naming the file; apply repairs it.
  std::ofstream(file) << "tampered";
  seen = host.observe(kKind);
  CHECK(seen.drifted() && seen.message.find("acme.greeting") != std::string::npos, seen.describe());
  applied = host.apply(kKind);
  CHECK(applied.ok(), applied.describe());
  seen = host.observe(kKind);
  CHECK(seen.in_sync(), seen.describe());

  // Another tenant is isolated from the first.
  host.tenant("beta", "free");
  seen = host.observe(kKind);
  CHECK(seen.absent(), seen.describe());
  host.tenant("acme", "starter");

  // Planning only observes.
  host.dry_run();
  auto refused = host.remove(kKind);
  CHECK(refused.status == MATIH_STATUS_FAILED_PRECONDITION, refused.describe());
  CHECK(fs::exists(file), "a dry-run remove deleted the file");
  host.dry_run(false);

  // Cancellation: the kind stops before touching anything.
  std::ofstream(file) << "tampered again";
  host.cancel();
  auto cancelled = host.apply(kKind);
  CHECK(cancelled.status == MATIH_STATUS_CANCELLED, cancelled.describe());
  CHECK(Read(file) == "tampered again", "a cancelled apply wrote the file");
  host.cancel(false);

  auto removed = host.remove(kKind);
  CHECK(removed.ok(), removed.describe());
  CHECK(!fs::exists(file), "remove left the file");
  CHECK(host.outputs().empty(), "remove left the step's outputs recorded");
  removed = host.remove(kKind);
  CHECK(removed.ok(), "remove when absent: " + removed.describe());
  seen = host.observe(kKind);
  CHECK(seen.absent(), seen.describe());
}

void Refusals(matih::testing::Host& host) {
  host.tenant("acme").unset_setting("example.dir");
  auto missing = host.apply(kKind);
  CHECK(missing.status == MATIH_STATUS_FAILED_PRECONDITION && !missing.transient(), missing.describe());
  CHECK(missing.message.find("example.dir") != std::string::npos, missing.describe());

  ScratchDir dir;
  host.setting("example.dir", dir.path.string()).tenant("Not/A/Label");
  auto bad = host.apply(kKind);
  CHECK(bad.status == MATIH_STATUS_INVALID_ARGUMENT, bad.describe());
  CHECK(fs::is_empty(dir.path), "a refused apply wrote something");
  host.tenant("acme");

  auto params = host.validate_params(kKind, "{}");
  CHECK(params.ok(), params.describe());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1) {
      auto host = matih::testing::Host::Load(argv[1]);
      CHECK(host.plugin_name() == "hello-step", host.plugin_name());
      Lifecycle(host);
      Refusals(host);
    } else {
      matih::testing::Host host(matih_step_plugin_init);
      CHECK(host.kinds().size() == 1 && host.kinds()[0] == kKind, "unexpected kinds");
      CHECK(host.declared_settings() == (std::vector<std::string>{"example.dir", "example.greeting"}),
            "the plugin does not declare the settings it reads");
      Lifecycle(host);
      Refusals(host);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hello_step_test: %s\n", e.what());
    return 100;
  }
  if (failures == 0) std::printf("hello_step_test: all checks passed\n");
  return failures;
}
