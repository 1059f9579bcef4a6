// RunnerConfig: every setting of the runner, from flags, MATIH_* environment variables, an INI
// config file with sections, and defaults, in that order of precedence.
//
// Each file key `section.name` has the environment variable MATIH_SECTION_NAME (dots and dashes
// become underscores). An unknown key in the file, an unparsable value or an out-of-range number
// is an InvalidArgument naming the key and where it came from. The [targets] section is open:
// its keys are settings for plugins, handed to them as they are (from the file only). An
// unknown MATIH_* environment variable is an InvalidArgument too (environment_check.h).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/status.h"
#include "engine/engine_options.h"
#include "telemetry/logger.h"

namespace matih::runner {

// Bounds of run.limit and run.workers, shared by the config file and the `run` flags.
inline constexpr int kMaxRunLimit = 100'000;
inline constexpr int kMaxRunWorkers = 256;

struct RunnerConfig {
  std::string config_file;  // empty when none was given
  std::string database_url;
  std::vector<std::string> plugin_dirs;
  std::map<std::string, std::string> plugin_pins;  // file name -> sha256
  // plugins.isolation: true (process, the default) runs plugins in worker processes;
  // false (in_process) loads them into the runner (trusted built-ins, benchmarks).
  bool plugin_isolation = true;
  unsigned long long worker_memory_limit = 4ULL << 30;  // plugins.worker_memory_limit; 0: none
  // plugins.stop_grace: how long a worker's call may take to return after its deadline or
  // cancel before the worker is stopped (SIGTERM, then SIGKILL half as long later).
  Millis plugin_stop_grace{2000};
  std::string catalog_file = "config/catalog.yaml";
  LogFormat log_format = LogFormat::kText;
  std::string log_level = "info";

  int run_limit = 50;
  int run_workers = 4;
  Millis lease{60'000};
  Millis heartbeat{15'000};
  Millis drift_interval{86'400'000};
  Millis db_reconnect{30'000};  // how long a run waits for a lost database before giving up (exit 4)
  Millis grace_period{7LL * 86'400'000};  // default deletion grace

  std::vector<std::string> regions{"eastus"};
  std::string default_region = "eastus";

  std::string metrics_pushgateway;
  std::string metrics_textfile;
  std::string metrics_listen;
  std::string metrics_job = "matih_provisioner";

  std::string secret_key_file;  // empty: MATIH_SECRET_KEY

  EngineOptions engine;  // engine.settings holds [targets]
};

// Values given on the command line, by their file key ("database.url"); repeatable keys
// (plugins.dir) hold several.
using ConfigOverrides = std::map<std::string, std::vector<std::string>>;

class ConfigLoader {
 public:
  // `env` looks variables up (tests pass their own); defaults to getenv.
  static Result<RunnerConfig> Load(const ConfigOverrides& flags,
                                   const std::optional<std::string>& config_file,
                                   const std::map<std::string, std::string>* env = nullptr);
  // The documented keys, for --help and tests.
  static std::vector<std::string> Keys();
  static std::string EnvName(const std::string& key);
};

}  // namespace matih::runner
