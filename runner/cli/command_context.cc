#include "cli/command_context.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "engine/tenant_request.h"
#include "isolation/plugin_loader.h"
#include "secrets/secret_key.h"
#include "secrets/sodium_secret_store.h"
#include "telemetry/logger.h"

namespace matih::runner {

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case Code::kOk: return kExitOk;
    case Code::kInvalidArgument:
    case Code::kNotFound:
    case Code::kFailedPrecondition:
    case Code::kPermissionDenied: return kExitUsage;
    case Code::kUnavailable: return kExitDatabase;
    default: return kExitError;
  }
}

int CommandContext::Fail(const Status& status) {
  err_ << "matih-provisioner: " << status.message() << "\n";
  return ExitCodeFor(status);
}

std::string CommandContext::actor() const {
  const char* user = std::getenv("USER");
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  return std::string(user && *user ? user : "operator") + "@" + host;
}

Result<const Database*> CommandContext::database() {
  if (!db_) {
    if (config_.database_url.empty())
      return InvalidArgument(
          "no database configured: pass --database-url, set MATIH_DATABASE_URL, or set "
          "database.url in the config file");
    db_ = std::make_unique<Database>(config_.database_url);
  }
  return db_.get();
}

Result<const StepCatalog*> CommandContext::catalog() {
  if (!catalog_) {
    auto c = StepCatalog::LoadFile(config_.catalog_file);
    if (!c.ok()) return c.status();
    catalog_ = std::make_unique<StepCatalog>(std::move(*c));
  }
  return catalog_.get();
}

Result<const PluginHost*> CommandContext::plugins(bool check_catalog) {
  if (!plugins_) {
    if (config_.plugin_dirs.empty())
      return InvalidArgument(
          "no plugin directory configured: pass --plugin-dir or set plugins.dir in the config file");
    auto host = isolation::LoadPlugins(plugin_options());
    if (!host.ok()) return host.status();
    plugins_ = std::move(*host);
    // What a tenant's own targets may overlay (engine/tenant_targets.h).
    for (const auto& p : plugins_->plugins())
      for (const auto& s : p.settings) config_.engine.declared_settings[p.name][s.name] = s.secret;
  }
  if (check_catalog) {
    auto c = catalog();
    if (!c.ok()) return c.status();
    if (Status s = (*c)->CheckKinds(*plugins_); !s.ok()) return s;
    std::vector<std::string> warnings;
    if (Status s =
            plugins_->CheckSettings(config_.engine.settings, config_.engine.runner_settings, &warnings);
        !s.ok())
      return s;
    for (const std::string& w : warnings) Logger::Warn({}, w);
    // Key files plugins read (MATIH_SETTING_KEY_FILE): refused here, before anything is claimed.
    if (Status s = plugins_->CheckKeyFiles(config_.engine.settings); !s.ok()) return s;
  }
  return plugins_.get();
}

PluginHostOptions CommandContext::plugin_options() const {
  PluginHostOptions options;
  options.plugin_dirs = config_.plugin_dirs;
  options.builtin_dirs = DefaultPluginDirs();
  options.sha256_pins = config_.plugin_pins;
  options.workers.enabled = config_.plugin_isolation;
  options.workers.memory_limit = config_.worker_memory_limit;
  options.workers.log_format = config_.log_format == LogFormat::kJson ? "json" : "text";
  options.workers.log_level = config_.log_level;
  options.workers.cancel_grace = config_.plugin_stop_grace;
  options.workers.kill_grace = std::max(Millis(100), config_.plugin_stop_grace / 2);
  return options;
}

Result<SecretStore*> CommandContext::secrets(bool required) {
  if (!secrets_ && !secrets_tried_) {
    secrets_tried_ = true;
    std::optional<std::string> path;
    if (!config_.secret_key_file.empty()) path = config_.secret_key_file;
    if (!path && !std::getenv(SecretKey::kEnvVar)) {
      if (required)
        return InvalidArgument(
            "no secret-store key: set secrets.key_file in the config file or MATIH_SECRET_KEY "
            "(64 hex characters)");
      return static_cast<SecretStore*>(nullptr);
    }
    auto key = SecretKey::Load(path);
    if (!key.ok()) return Status(Code::kInvalidArgument, key.status().message());
    secrets_ = std::make_unique<SodiumSecretStore>(config_.database_url, std::move(*key));
  }
  if (!secrets_ && required) return InvalidArgument("no secret-store key configured");
  return secrets_.get();
}

Status CommandContext::CheckWithStep1(const TenantView& tenant) {
  auto c = catalog();
  if (!c.ok()) return c.status();
  auto host = plugins(true);
  if (!host.ok()) return host.status();
  return runner::CheckWithStep1(**c, **host, config_.engine, tenant);
}

}  // namespace matih::runner
