// CommandContext: what every command is handed. Builds the heavy objects (database, catalog,
// plugins, secret store) on first use, so `--help` and bad usage never touch the database.
// Used from the main thread only.
#pragma once

#include <iostream>
#include <memory>
#include <string>

#include "common/status.h"
#include "config/runner_config.h"
#include "engine/step_catalog.h"
#include "plugin_host/plugin_host.h"
#include "secrets/secret_store.h"
#include "store/database.h"

namespace matih::runner {

// Exit codes of matih-provisioner.
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,
  kExitUsage = 2,         // bad usage, config or input; nothing changed
  kExitTenantFailed = 3,  // a tenant of this run ended FAILED or ROLLED_BACK
  kExitDatabase = 4,      // database unreachable
};

class CommandContext {
 public:
  CommandContext(RunnerConfig config, std::ostream& out, std::ostream& err)
      : config_(std::move(config)), out_(out), err_(err) {}

  const RunnerConfig& config() const { return config_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  std::string actor() const;  // who runs operator commands: $USER@host

  Result<const Database*> database();
  Result<const StepCatalog*> catalog();
  // Loads plugins and checks that every enabled catalog step has its kind.
  Result<const PluginHost*> plugins(bool check_catalog = true);
  // How plugins() loads them: the configured directories, pins and isolation, and the runner's
  // built-in plugin directories (DefaultPluginDirs()).
  PluginHostOptions plugin_options() const;
  // The secret store; `required` false answers nullptr when no key is configured.
  Result<SecretStore*> secrets(bool required);
  // The catalog's step 1 judges a new or changed tenant before a command writes it (loads the
  // plugins): OK, or InvalidArgument naming every problem.
  Status CheckWithStep1(const TenantView& tenant);

  // Prints "matih-provisioner: <message>" and returns the exit code for `status`.
  int Fail(const Status& status);

 private:
  RunnerConfig config_;
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<StepCatalog> catalog_;
  std::unique_ptr<PluginHost> plugins_;
  std::unique_ptr<SecretStore> secrets_;
  bool secrets_tried_ = false;
};

int ExitCodeFor(const Status& status);

}  // namespace matih::runner
