// TenantTargets: the [targets] settings the steps of one tenant see.
//
// A dedicated tenant's own infrastructure (phase 7; step 54 register-dedicated-cluster locally)
// records outputs named "target.<setting-key>": the database server, GitOps folder, storage
// account ... that the tenant's phases 2-5 use instead of the runner's shared defaults. The
// engine lays those values over the runner's [targets] for every call of that tenant.
//
// Rules (each broken rule is FailedPrecondition naming the output and its step, never skipped
// silently): only a key some loaded plugin declared may be overlaid (EngineOptions::
// declared_settings); a setting declared secret never comes from an output in the clear: its
// output holds "vault:<name>", a secret of the plugin that recorded the output, read from the
// secret store (a store error is Unavailable, i.e. retried). Plain values of non-secret settings
// are taken as they are.
// Stateless; safe to call from any thread.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "common/status.h"
#include "model/step_kind.h"

namespace matih::runner {

class SecretStore;

// plugin name -> declared key (a key ending in '*' declares a prefix) -> secret?
using DeclaredSettings = std::map<std::string, std::map<std::string, bool>>;

class TenantTargets {
 public:
  static constexpr const char* kOutputPrefix = "target.";
  static constexpr const char* kVaultPrefix = "vault:";

  struct Inputs {
    const TenantOutputs* outputs = nullptr;      // by step name
    const DeclaredSettings* declared = nullptr;  // null or empty: nothing may be overlaid
    SecretStore* secrets = nullptr;              // for vault: values; may be null
    std::string tenant_id;
    // The plugin that recorded a step's outputs ("" when unknown): owner of its vault: secrets.
    std::function<std::string(const std::string& step_name)> plugin_of;
  };

  // The overlay: setting key -> value. Empty for a tenant without target.* outputs.
  static Result<std::map<std::string, std::string>> Overlay(const Inputs& in);

  // Whether any step recorded a target.* output (the tenant lives on its own targets).
  static bool HasOverlay(const TenantOutputs& outputs);

  // Whether `plugin` declared `key` (exactly or by prefix); `secret` tells how.
  static bool Declared(const DeclaredSettings& declared, const std::string& key, bool* secret,
                       std::string* plugin = nullptr);
};

}  // namespace matih::runner
