#include "config/runner_config.h"

#include <boost/program_options.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

#include "config/environment_check.h"
#include "secrets/secret_key.h"

namespace matih::runner {
namespace {

namespace po = boost::program_options;

// One documented key: how to apply its text to the config.
struct Key {
  const char* name;
  bool repeatable;
  const char* help;
  std::function<Status(RunnerConfig&, const std::string& value, const std::string& where)> apply;
};

Status Bad(const std::string& key, const std::string& where, const std::string& why) {
  return InvalidArgument(key + " (" + where + "): " + why);
}

auto Text(std::string RunnerConfig::*field) {
  return [field](RunnerConfig& c, const std::string& v, const std::string&) {
    c.*field = v;
    return Status::Ok();
  };
}

// A duration key; `positive`: zero is refused too (a zero lease or deadline would end every claim
// at once, where the operator surely meant something else).
auto Duration(Millis RunnerConfig::*field, const char* key, bool positive = true) {
  return [field, key, positive](RunnerConfig& c, const std::string& v, const std::string& where) {
    auto d = ParseDuration(v, key);
    if (!d.ok()) return Bad(key, where, d.status().message());
    if (positive && d->count() == 0) return Bad(key, where, "must be more than 0s");
    c.*field = *d;
    return Status::Ok();
  };
}

Status ParseInt(const std::string& key, const std::string& v, const std::string& where, int lo, int hi,
                int& out) {
  try {
    size_t pos = 0;
    int n = std::stoi(v, &pos);
    if (pos != v.size()) throw std::invalid_argument(v);
    if (n < lo || n > hi)
      return Bad(key, where, "'" + v + "' is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
    out = n;
    return Status::Ok();
  } catch (const std::exception&) {
    return Bad(key, where, "'" + v + "' is not a whole number");
  }
}

auto Int(int RunnerConfig::*field, const char* key, int lo, int hi) {
  return [=](RunnerConfig& c, const std::string& v, const std::string& where) {
    return ParseInt(key, v, where, lo, hi, c.*field);
  };
}

std::vector<std::string> SplitList(const std::string& v) {
  std::vector<std::string> out;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

// "4GiB", "512MiB", "64KiB", "1048576", "0"; nothing else.
std::optional<unsigned long long> ParseByteSize(const std::string& v) {
  size_t pos = 0;
  unsigned long long n = 0;
  try {
    if (v.empty() || !std::isdigit(static_cast<unsigned char>(v[0]))) return std::nullopt;
    n = std::stoull(v, &pos);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const std::string unit = v.substr(pos);
  unsigned shift = 0;
  if (unit == "KiB")
    shift = 10;
  else if (unit == "MiB")
    shift = 20;
  else if (unit == "GiB")
    shift = 30;
  else if (!unit.empty())
    return std::nullopt;
  if (shift && n > (~0ULL >> shift)) return std::nullopt;
  return n << shift;
}

const std::vector<Key>& AllKeys() {
  static const std::vector<Key> keys = {
      {"database.url", false, "PostgreSQL URL of the runner's database",
       [](RunnerConfig& c, const std::string& v, const std::string& where) {
         // A malformed URL is bad input (exit 2), not an unreachable database (exit 4): libpq
         // takes a postgresql:// (or postgres://) URL or a key=value connection string.
         if (!v.empty() && v.rfind("postgresql://", 0) != 0 && v.rfind("postgres://", 0) != 0 &&
             v.find('=') == std::string::npos)
           return Bad("database.url", where,
                      "not a PostgreSQL URL (postgresql://...) or key=value connection string");
         c.database_url = v;
         return Status::Ok();
       }},
      {"plugins.dir", true, "a directory to load step plugins from (repeatable)",
       [](RunnerConfig& c, const std::string& v, const std::string&) {
         c.plugin_dirs.push_back(v);
         return Status::Ok();
       }},
      {"plugins.pin", true, "FILE=SHA256: refuse the plugin file unless its SHA-256 matches (repeatable)",
       [](RunnerConfig& c, const std::string& v, const std::string& where) {
         auto eq = v.find('=');
         if (eq == std::string::npos || eq == 0 || v.size() - eq - 1 != 64)
           return Bad("plugins.pin", where, "expected FILE=<64 hex characters>");
         c.plugin_pins[v.substr(0, eq)] = v.substr(eq + 1);
         return Status::Ok();
       }},
      {"plugins.isolation", false,
       "process (default: plugins run in worker processes the runner can stop) | in_process",
       [](RunnerConfig& c, const std::string& v, const std::string& where) {
         if (v == "process")
           c.plugin_isolation = true;
         else if (v == "in_process")
           c.plugin_isolation = false;
         else
           return Bad("plugins.isolation", where, "'" + v + "' is not one of process, in_process");
         return Status::Ok();
       }},
      {"plugins.worker_memory_limit", false,
       "address-space limit (RLIMIT_AS) of each plugin worker: bytes or KiB/MiB/GiB (default 4GiB; 0: none)",
       [](RunnerConfig& c, const std::string& v, const std::string& where) {
         auto bytes = ParseByteSize(v);
         if (!bytes)
           return Bad("plugins.worker_memory_limit", where, "'" + v + "' is not a size like 2GiB or 512MiB");
         c.worker_memory_limit = *bytes;
         return Status::Ok();
       }},
      {"plugins.stop_grace", false,
       "after a call's deadline or cancel, how long its plugin worker may take before it is stopped (default "
       "2s)",
       Duration(&RunnerConfig::plugin_stop_grace, "plugins.stop_grace")},
      {"catalog.file", false, "the step catalog (YAML)", Text(&RunnerConfig::catalog_file)},
      {"log.format", false, "text | json",
       [](RunnerConfig& c, const std::string& v, const std::string& where) {
         if (v == "text")
           c.log_format = LogFormat::kText;
         else if (v == "json")
           c.log_format = LogFormat::kJson;
         else
           return Bad("log.format", where, "'" + v + "' is not one of text, json");
         return Status::Ok();
       }},
      {"log.level", false, "trace | debug | info | warn | error | off",
       [](RunnerConfig& c, const std::string& v, const std::string& where) {
         for (const char* l : {"trace", "debug", "info", "warn", "error", "off"})
           if (v == l) {
             c.log_level = v;
             return Status::Ok();
           }
         return Bad("log.level", where, "'" + v + "' is not one of trace, debug, info, warn, error, off");
       }},
      {"run.limit", false, "tenants claimed per run",
       Int(&RunnerConfig::run_limit, "run.limit", 1, kMaxRunLimit)},
      {"run.workers", false, "tenants worked at once",
       Int(&RunnerConfig::run_workers, "run.workers", 1, kMaxRunWorkers)},
      {"run.lease", false, "how long a claim holds a tenant without a heartbeat",
       Duration(&RunnerConfig::lease, "run.lease")},
      {"run.heartbeat", false, "how often leases are extended",
       Duration(&RunnerConfig::heartbeat, "run.heartbeat")},
      {"run.drift_interval", false, "how often an ACTIVE tenant is checked for drift",
       Duration(&RunnerConfig::drift_interval, "run.drift_interval")},
      {"run.commit_interval", false,
       "how long results of adoptable steps may wait for their commit (0s: commit every step)",
       [](RunnerConfig& c, const std::string& v, const std::string& where) {
         auto d = ParseDuration(v, "run.commit_interval");
         if (!d.ok()) return Bad("run.commit_interval", where, d.status().message());
         c.engine.commit_interval = *d;
         return Status::Ok();
       }},
      {"run.db_reconnect", false, "how long a run reconnects to a lost database before giving up (exit 4)",
       Duration(&RunnerConfig::db_reconnect, "run.db_reconnect")},
      {"run.deadline", false, "deadline of one tenant's provisioning",
       [](RunnerConfig& c, const std::string& v, const std::string& where) {
         auto d = ParseDuration(v, "run.deadline");
         if (!d.ok()) return Bad("run.deadline", where, d.status().message());
         if (d->count() == 0) return Bad("run.deadline", where, "must be more than 0s");
         c.engine.provisioning_deadline = *d;
         return Status::Ok();
       }},
      {"run.max_attempts", false, "runs a tenant may fail transiently before the failure policy applies",
       [](RunnerConfig& c, const std::string& v, const std::string& where) {
         return ParseInt("run.max_attempts", v, where, 1, 1000, c.engine.max_tenant_attempts);
       }},
      {"run.backoff", false, "first wait before a tenant is tried again",
       [](RunnerConfig& c, const std::string& v, const std::string& where) {
         auto d = ParseDuration(v, "run.backoff");
         if (!d.ok()) return Bad("run.backoff", where, d.status().message());
         c.engine.tenant_backoff.initial_backoff = *d;
         return Status::Ok();
       }},
      {"run.max_backoff", false, "longest wait before a tenant is tried again",
       [](RunnerConfig& c, const std::string& v, const std::string& where) {
         auto d = ParseDuration(v, "run.max_backoff");
         if (!d.ok()) return Bad("run.max_backoff", where, d.status().message());
         c.engine.tenant_backoff.max_backoff = *d;
         return Status::Ok();
       }},
      {"run.failure_policy", false, "rollback | park",
       [](RunnerConfig& c, const std::string& v, const std::string& where) {
         if (v == "rollback")
           c.engine.failure_policy = FailurePolicy::kRollback;
         else if (v == "park")
           c.engine.failure_policy = FailurePolicy::kPark;
         else
           return Bad("run.failure_policy", where, "'" + v + "' is not one of rollback, park");
         return Status::Ok();
       }},
      {"tenants.regions", false, "comma-separated regions tenants may be placed in",
       [](RunnerConfig& c, const std::string& v, const std::string& where) {
         c.regions = SplitList(v);
         if (c.regions.empty()) return Bad("tenants.regions", where, "needs at least one region");
         return Status::Ok();
       }},
      {"tenants.default_region", false, "region of a tenant added without --region",
       Text(&RunnerConfig::default_region)},
      {"tenants.grace_period", false, "default deletion grace period",
       Duration(&RunnerConfig::grace_period, "tenants.grace_period", /*positive=*/false)},
      // Both are used at the end of a run: checked here, so a run never does its work and only
      // then finds it cannot report it.
      {"metrics.pushgateway", false, "Pushgateway URL (http://host:port) to push to at the end of a run",
       [](RunnerConfig& c, const std::string& v, const std::string& where) {
         const bool http = v.rfind("http://", 0) == 0, https = v.rfind("https://", 0) == 0;
         const std::string host = http ? v.substr(7) : https ? v.substr(8) : "";
         if (!v.empty() &&
             (host.empty() || host.front() == '/' || host.find_first_of(" \t") != std::string::npos))
           return Bad("metrics.pushgateway", where, "'" + v + "' is not an http:// or https:// URL");
         c.metrics_pushgateway = v;
         return Status::Ok();
       }},
      {"metrics.textfile", false, "node_exporter textfile to write at the end of a run",
       [](RunnerConfig& c, const std::string& v, const std::string& where) {
         std::error_code ec;
         const auto dir = std::filesystem::path(v).parent_path();
         if (!v.empty() && !std::filesystem::is_directory(dir.empty() ? "." : dir, ec))
           return Bad("metrics.textfile", where, "folder " + dir.string() + " does not exist");
         c.metrics_textfile = v;
         return Status::Ok();
       }},
      {"metrics.listen", false, "address (host:port) to serve /metrics on during a run",
       Text(&RunnerConfig::metrics_listen)},
      {"metrics.job", false, "job label for the Pushgateway", Text(&RunnerConfig::metrics_job)},
      {"secrets.key_file", false, "file with the 32-byte secret-store key (else MATIH_SECRET_KEY)",
       Text(&RunnerConfig::secret_key_file)},
  };
  return keys;
}

const Key* FindKey(const std::string& name) {
  for (const auto& k : AllKeys())
    if (name == k.name) return &k;
  return nullptr;
}

}  // namespace

std::string ConfigLoader::EnvName(const std::string& key) {
  std::string env = "MATIH_";
  for (char ch : key)
    env += (ch == '.' || ch == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return env;
}

std::vector<std::string> ConfigLoader::Keys() {
  std::vector<std::string> names;
  for (const auto& k : AllKeys()) names.push_back(k.name);
  return names;
}

Result<RunnerConfig> ConfigLoader::Load(const ConfigOverrides& flags,
                                        const std::optional<std::string>& config_file,
                                        const std::map<std::string, std::string>* env) {
  auto getenv_ = [env](const std::string& name) -> std::optional<std::string> {
    if (env) {
      auto it = env->find(name);
      if (it == env->end()) return std::nullopt;
      return it->second;
    }
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };

  // Every MATIH_* variable must be one of ours (environment_check.h has the rule).
  {
    std::vector<std::string> known = {"MATIH_CONFIG", SecretKey::kEnvVar};
    for (const auto& k : AllKeys()) known.push_back(EnvName(k.name));
    if (Status s = CheckEnvironment(env ? *env : ProcessEnvironment(), known); !s.ok()) return s;
  }

  // The file: every value by key, and the open [targets] section.
  std::map<std::string, std::vector<std::string>> file_values;
  std::map<std::string, std::string> targets;
  std::optional<std::string> path = config_file;
  if (!path) path = getenv_("MATIH_CONFIG");
  if (path && !path->empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*path, ec)) {
      return InvalidArgument(
          "cannot read config file " + *path +
          (std::filesystem::exists(*path, ec) ? ": not a regular file" : ": no such file"));
    }
    std::ifstream in(*path);
    if (!in) return InvalidArgument("cannot read config file " + *path);
    po::options_description none;
    try {
      auto parsed = po::parse_config_file(in, none, /*allow_unregistered=*/true);
      for (const auto& opt : parsed.options) {
        const std::string value = opt.value.empty() ? std::string() : opt.value.front();
        if (opt.string_key.rfind("targets.", 0) == 0) {
          targets[opt.string_key.substr(8)] = value;
          continue;
        }
        const Key* key = FindKey(opt.string_key);
        if (!key) return InvalidArgument("unknown config key '" + opt.string_key + "' in " + *path);
        if (!key->repeatable && file_values.count(opt.string_key))
          return InvalidArgument("config key '" + opt.string_key + "' is set twice in " + *path);
        file_values[opt.string_key].push_back(value);
      }
    } catch (const po::invalid_config_file_syntax& e) {
      // Not e.what(): Boost substitutes "%name%" tokens into its message until none is left, so a
      // line holding such a token never ends (found by fuzzing). The line is shown as it is.
      return InvalidArgument("config file " + *path + ": invalid line '" + e.tokens().substr(0, 200) + "'");
    } catch (const po::error_with_option_name& e) {
      return InvalidArgument("config file " + *path + ": cannot read option '" +
                             e.get_option_name().substr(0, 200) + "'");
    } catch (const po::error& e) {
      return InvalidArgument("config file " + *path + ": " + e.what());
    }
  }

  RunnerConfig config;
  config.config_file = path.value_or("");
  config.engine.settings = targets;
  for (const Key& key : AllKeys()) {
    std::vector<std::string> values;
    std::string where;
    if (auto it = flags.find(key.name); it != flags.end() && !it->second.empty()) {
      values = it->second;
      where = "command line";
    } else if (auto v = getenv_(EnvName(key.name))) {
      // Repeatable keys take a colon-separated list in the environment, like PATH.
      if (key.repeatable) {
        std::stringstream ss(*v);
        std::string item;
        while (std::getline(ss, item, ':'))
          if (!item.empty()) values.push_back(item);
      } else {
        values = {*v};
      }
      where = "environment " + EnvName(key.name);
    } else if (auto f = file_values.find(key.name); f != file_values.end()) {
      values = f->second;
      where = *path;
    }
    for (const auto& v : values)
      if (Status s = key.apply(config, v, where); !s.ok()) return s;
  }
  for (const auto& [flag, v] : flags)
    if (!FindKey(flag)) return InvalidArgument("unknown setting '" + flag + "'");

  if (config.heartbeat >= config.lease)
    return InvalidArgument("run.heartbeat (" + FormatDuration(config.heartbeat) +
                           ") must be shorter than run.lease (" + FormatDuration(config.lease) + ")");
  bool default_ok = false;
  for (const auto& r : config.regions) default_ok |= r == config.default_region;
  if (!default_ok)
    return InvalidArgument("tenants.default_region '" + config.default_region +
                           "' is not in tenants.regions");
  // Plugins read regions from their settings too; one source of truth.
  if (!config.engine.settings.count("tenant.regions")) {
    std::string joined;
    for (const auto& r : config.regions) joined += (joined.empty() ? "" : ",") + r;
    config.engine.settings["tenant.regions"] = joined;
    config.engine.runner_settings.insert("tenant.regions");
  }
  return config;
}

}  // namespace matih::runner
