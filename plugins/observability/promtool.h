// CheckRuleFile: runs `promtool check rules FILE` (Prometheus's own checker: YAML structure,
// PromQL of every expression, templates of labels and annotations, durations) before a rule file
// is put where Prometheus loads it.
//
// Runs the program directly (posix_spawnp, no shell) with stdout and stderr captured. A program
// that cannot be started is PermanentError naming setting observability.promtool. Safe from any
// thread.
#pragma once

#include <string>

namespace matih::plugins::observability {

struct RuleCheck {
  bool ok = false;
  std::string output;  // promtool's words (stdout + stderr)
};

RuleCheck CheckRuleFile(const std::string& promtool, const std::string& file);

}  // namespace matih::plugins::observability
