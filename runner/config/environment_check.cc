#include "config/environment_check.h"

#include <algorithm>
#include <fstream>
#include <set>

extern char** environ;

namespace matih::runner {
namespace {

constexpr const char* kPrefix = "MATIH_";

bool StartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
// transpositions each cost one.
size_t EditDistance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

// The names var/stack.env of the local stack at `root` assigns; false when it cannot be read.
bool StackNames(const std::string& root, std::set<std::string>& names) {
  std::ifstream in(root + "/var/stack.env");
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (auto eq = line.find('='); eq != std::string::npos) names.insert(line.substr(0, eq));
  }
  return true;
}

// Shown in messages: a value may be a secret, and a name is enough to find the typo.
std::string Printable(const std::string& name) {
  std::string out;
  for (char c : name.substr(0, 200)) out += (c >= 0x21 && c <= 0x7e) ? c : '?';
  return out;
}

}  // namespace

const std::vector<std::string>& DevelopmentKnobs() {
  // scripts/build, scripts/test, scripts/stack, scripts/demo, scripts/fuzz, the chaos suites and
  // the corpus: knobs a developer exports in a shell that may also run the runner.
  static const std::vector<std::string> knobs = {
      "MATIH_CHAOS_FLOWS",
      "MATIH_CHAOS_KEEP_RUNS",
      "MATIH_CHAOS_STEPS",
      "MATIH_CORPUS_FILE_DIRS",
      "MATIH_CORPUS_GIT_DIRS",
      "MATIH_DEMO_PASSES",
      "MATIH_EXAMPLE_EXPECT_LIBCXX",
      "MATIH_EXAMPLE_PLUGIN_DIRS",
      "MATIH_FUZZ_SECONDS",
      "MATIH_FUZZ_TARGETS",
      "MATIH_FUZZ_VERBOSE",
      "MATIH_JOBS",
      "MATIH_PG_FSYNC",
      "MATIH_PORT_BASE",
      "MATIH_RENDER_DIR",
      "MATIH_STACK_ROOT",
      "MATIH_STATE_NO_PG",
      "MATIH_TEST_JOBS",
      "MATIH_TF_PROVIDER_MIRROR",
      // The stack's terraform path (MATIH_<TOOL>_BIN of scripts/stack), handed to the runner by
      // tests/chaos/secrets_scan_test.cc without the rest of var/stack.env.
      "MATIH_TERRAFORM_BIN",
  };
  return knobs;
}

std::string NearestName(const std::string& name, const std::vector<std::string>& known) {
  const std::string tail = StartsWith(name, kPrefix) ? name.substr(6) : name;
  const size_t limit = std::min<size_t>(3, std::max<size_t>(1, tail.size() / 3));
  std::string best;
  size_t best_distance = limit + 1;
  for (const auto& k : known) {
    const size_t dist = EditDistance(name, k);
    if (dist < best_distance) {
      best_distance = dist;
      best = k;
    }
  }
  return best;
}

Status CheckEnvironment(const std::map<std::string, std::string>& env,
                        const std::vector<std::string>& known) {
  const std::set<std::string> own(known.begin(), known.end());
  const std::set<std::string> knobs(DevelopmentKnobs().begin(), DevelopmentKnobs().end());
  std::set<std::string> stack;
  bool stack_unreadable = false;
  std::string stack_root;
  if (auto it = env.find("MATIH_STACK_ROOT"); it != env.end() && !it->second.empty()) {
    stack_root = it->second;
    stack_unreadable = !StackNames(stack_root, stack);
  }
  for (const auto& [name, value] : env) {
    if (!StartsWith(name, kPrefix) || own.count(name) || knobs.count(name) || stack.count(name)) continue;
    std::string message = "unknown environment variable " + Printable(name) + ": ";
    if (StartsWith(name, "MATIH_TARGETS_")) {
      message += "plugin settings are read from the [targets] section of the config file only";
    } else if (std::string nearest = NearestName(name, known); !nearest.empty()) {
      message += "did you mean " + nearest + "?";
    } else {
      message +=
          "no runner setting has that name (each key section.name is MATIH_SECTION_NAME; see "
          "matih-provisioner --help)";
    }
    if (stack_unreadable)
      message += " (MATIH_STACK_ROOT is set, but " + Printable(stack_root) +
                 "/var/stack.env, which names the local stack's variables, cannot be read)";
    return InvalidArgument(message);
  }
  return Status::Ok();
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    const auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

}  // namespace matih::runner
