// Fuzzes the config loader (runner/config/runner_config.cc): the input is the INI file's text,
// read through a path like a real file, with no environment variable and no flag. Either it loads,
// or it is refused with InvalidArgument naming the file (or the keys); a loaded config holds values in range.
#include <map>
#include <string>

#include "config/runner_config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using matih::fuzz::Require;
  static matih::fuzz::MemFile file("matih-config");
  static const std::map<std::string, std::string> no_env;
  file.Write(data, size);
  auto loaded = matih::runner::ConfigLoader::Load({}, file.path(), &no_env);
  if (!loaded.ok()) {
    Require(loaded.status().code() == matih::runner::Code::kInvalidArgument,
            "refusal is not InvalidArgument");
    // Most refusals name the file; those that weigh two keys together (tenants.default_region
    // against tenants.regions, run.heartbeat against run.lease) name the keys, whose values may come from
    // anywhere.
    const std::string& m = loaded.status().message();
    Require(
        m.find(file.path()) != std::string::npos || m.rfind("tenants.", 0) == 0 || m.rfind("run.", 0) == 0,
        "refusal names neither the file nor a key: " + m);
    return 0;
  }
  const auto& c = *loaded;
  Require(c.run_limit >= 1 && c.run_limit <= matih::runner::kMaxRunLimit, "run.limit out of range");
  Require(c.run_workers >= 1 && c.run_workers <= matih::runner::kMaxRunWorkers, "run.workers out of range");
  Require(c.lease.count() > 0 && c.heartbeat.count() > 0, "non-positive lease or heartbeat");
  return 0;
}
