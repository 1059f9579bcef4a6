#include "cli/app.h"

#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "telemetry/logger.h"

namespace matih::runner {
namespace po = boost::program_options;

namespace {

constexpr const char* kUsage = R"(matih-provisioner - provisions MATIH tenants and keeps them converged

Usage: matih-provisioner [GLOBAL OPTIONS] COMMAND [ARGS] [--help]

Commands:
  migrate                         bring the database schema up to date
  tenants add|list|show           add a tenant; list them; show one with its steps
  tenants import FILE|-           add many tenants at once (JSON lines or CSV): all, or none
  steps list                      the step catalog and the plugin serving each step
  plugins verify                  load every plugin and report what it exports
  plugins try --kind K            observe/apply/observe/remove/observe one kind on a scratch tenant
  run                             one batch pass: claim due tenants, converge them, exit
  plan (SLUG|--all)               observe only; show what a run would change
  rollback SLUG                   undo a failed tenant's steps in reverse order
  delete SLUG [--grace D]         schedule teardown after a grace period (row kept)
  cancel SLUG                     cancel a PENDING tenant before it is provisioned
  suspend SLUG | resume SLUG      suspend an active tenant; reactivate a suspended one
  retry SLUG [--from STEP]        provision a failed or rolled-back tenant again
  upgrade SLUG --tier T           change an active tenant's tier
  status [--format table|json]    the fleet at a glance: counts, failures, runs, leases
  history SLUG | --all [--since D] [--step N] [--event E]
                                  the audit trail of a tenant, or of the fleet, filtered
  audit verify [SLUG]             check the audit hash chains
  secrets rotate-key              re-wrap the secret store's data keys under a new master key

Global options (also in the config file, section.key, and as MATIH_SECTION_KEY):
  --config FILE                   INI config file with sections (env MATIH_CONFIG)
  --database-url URL              PostgreSQL URL (env MATIH_DATABASE_URL; key database.url)
  --plugin-dir DIR                load step plugins from DIR; repeatable (key plugins.dir)
  --catalog FILE                  step catalog (key catalog.file; default config/catalog.yaml)
  --log-format text|json          (key log.format)
  --log-level LEVEL               trace|debug|info|warn|error|off (key log.level)
  --version                       print the version

Exit codes: 0 all good; 2 bad usage, config or input (nothing changed); 3 a tenant of this run
ended FAILED or ROLLED_BACK; 4 database unreachable; 1 anything else.
Run 'matih-provisioner COMMAND --help' for a command's options.
)";

// Global flags and the config key each sets.
const std::map<std::string, std::string>& GlobalFlags() {
  static const std::map<std::string, std::string> flags = {
      {"--config", ""},
      {"--database-url", "database.url"},
      {"--plugin-dir", "plugins.dir"},
      {"--catalog", "catalog.file"},
      {"--log-format", "log.format"},
      {"--log-level", "log.level"},
  };
  return flags;
}

using Command = int (*)(CommandContext&, const Args&);

struct CommandEntry {
  std::vector<std::string> words;
  Command run;
};

const std::vector<CommandEntry>& Commands() {
  static const std::vector<CommandEntry> commands = {
      {{"migrate"}, CmdMigrate},
      {{"tenants", "add"}, CmdTenantsAdd},
      {{"tenants", "import"}, CmdTenantsImport},
      {{"tenants", "list"}, CmdTenantsList},
      {{"tenants", "show"}, CmdTenantsShow},
      {{"steps", "list"}, CmdStepsList},
      {{"plugins", "verify"}, CmdPluginsVerify},
      {{"plugins", "try"}, CmdPluginsTry},
      {{"run"}, CmdRun},
      {{"plan"}, CmdPlan},
      {{"rollback"}, CmdRollback},
      {{"delete"}, CmdDelete},
      {{"cancel"}, CmdCancel},
      {{"suspend"}, CmdSuspend},
      {{"resume"}, CmdResume},
      {{"retry"}, CmdRetry},
      {{"upgrade"}, CmdUpgrade},
      {{"history"}, CmdHistory},
      {{"audit", "verify"}, CmdAuditVerify},
      {{"status"}, CmdStatus},
      {{"secrets", "rotate-key"}, CmdSecretsRotateKey},
  };
  return commands;
}

spdlog::level::level_enum LevelFrom(const std::string& name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "warn") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  if (name == "off") return spdlog::level::off;
  return spdlog::level::info;
}

}  // namespace

bool ParseArgs(CommandContext& ctx, const std::string& usage, const std::string& summary,
               po::options_description options, const po::positional_options_description& positional,
               const Args& args, po::variables_map& vm, int& exit) {
  options.add_options()("help,h", "show this help");
  try {
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
    if (vm.count("help")) {
      ctx.out() << "Usage: matih-provisioner " << usage << "\n\n" << summary << "\n\n" << options << "\n";
      exit = kExitOk;
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    ctx.err() << "matih-provisioner: " << e.what() << "\nUsage: matih-provisioner " << usage
              << "\n(see --help)\n";
    exit = kExitUsage;
    return false;
  }
  return true;
}

bool CheckFormat(CommandContext& ctx, const std::string& format, int& exit) {
  if (format == "table" || format == "json") return true;
  ctx.err() << "matih-provisioner: --format must be table or json, not '" << format << "'\n";
  exit = kExitUsage;
  return false;
}

int RunApp(int argc, char** argv) {
  // Pull the global flags out wherever they stand; the rest is the command and its arguments.
  ConfigOverrides overrides;
  std::optional<std::string> config_file;
  std::vector<std::string> rest;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--version") {
      std::cout << "matih-provisioner " << MATIH_VERSION << " (step ABI " << MATIH_STEP_ABI_VERSION_MAJOR
                << "." << MATIH_STEP_ABI_VERSION_MINOR << ")\n";
      return kExitOk;
    }
    std::string name = arg, value;
    bool inline_value = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    auto flag = GlobalFlags().find(name);
    if (flag == GlobalFlags().end()) {
      rest.push_back(arg);
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argc) {
        std::cerr << "matih-provisioner: " << name << " needs a value\n";
        return kExitUsage;
      }
      value = argv[++i];
    }
    if (flag->second.empty())
      config_file = value;
    else
      overrides[flag->second].push_back(value);
  }

  if (rest.empty() || rest[0] == "--help" || rest[0] == "-h" || rest[0] == "help") {
    (rest.empty() ? std::cerr : std::cout) << kUsage;
    return rest.empty() ? kExitUsage : kExitOk;
  }

  const CommandEntry* found = nullptr;
  for (const auto& c : Commands()) {
    if (rest.size() < c.words.size()) continue;
    if (std::equal(c.words.begin(), c.words.end(), rest.begin())) {
      found = &c;
      break;
    }
  }
  if (!found) {
    // A group name alone, or with --help: list its subcommands.
    std::vector<std::string> subs;
    for (const auto& c : Commands())
      if (c.words.size() == 2 && c.words[0] == rest[0]) subs.push_back(c.words[1]);
    if (!subs.empty()) {
      bool help = rest.size() > 1 && (rest[1] == "--help" || rest[1] == "-h");
      std::ostream& os = help ? std::cout : std::cerr;
      if (!help && rest.size() > 1)
        os << "matih-provisioner: unknown command '" << rest[0] << " " << rest[1] << "'\n";
      os << "Usage: matih-provisioner " << rest[0] << " (";
      for (size_t i = 0; i < subs.size(); ++i) os << (i ? "|" : "") << subs[i];
      os << ") [--help]\n";
      return help ? kExitOk : kExitUsage;
    }
    std::cerr << "matih-provisioner: unknown command '" << rest[0] << "' (see matih-provisioner --help)\n";
    return kExitUsage;
  }
  Args args(rest.begin() + static_cast<long>(found->words.size()), rest.end());

  bool wants_help = false;
  for (const auto& a : args) wants_help |= a == "--help" || a == "-h";
  auto config = ConfigLoader::Load(overrides, config_file);
  if (!config.ok() && !wants_help) {
    std::cerr << "matih-provisioner: " << config.status().message() << "\n";
    return kExitUsage;
  }
  RunnerConfig cfg = config.ok() ? *config : RunnerConfig{};
  Logger::Configure(cfg.log_format, LevelFrom(cfg.log_level));
  CommandContext ctx(std::move(cfg), std::cout, std::cerr);
  try {
    return found->run(ctx, args);
  } catch (const std::exception& e) {
    // "Cannot happen" territory: a bug. Say so loudly rather than pretend.
    std::cerr << "matih-provisioner: internal error: " << e.what() << "\n";
    return kExitError;
  }
}

}  // namespace matih::runner
