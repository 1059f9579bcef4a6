// The tenant's own [targets] as phase 7 made them: step 52's outputs `targets` (a map of setting
// key -> value) and `target_secrets` (the same for credentials; a sensitive output, so only in the
// secret store as terraform/<module>/output/target_secrets). Step 54 records each as an output
// target.<key>: plain values as they are, secret ones as "vault:targets/<key>" pointing at a
// secret of this plugin. The runner lays them over its settings for the tenant's later steps
// (runner/engine/tenant_targets.h); only settings some plugin declares are accepted there.
// Functions of one step call; safe from any thread.
#pragma once

#include <map>
#include <matih/step.hpp>
#include <string>

#include "terraform/module_params.h"

namespace matih::plugins::terraform {

struct TenantTargets {
  std::map<std::string, std::string> plain;    // setting key -> value
  std::map<std::string, std::string> secrets;  // setting key -> credential (never printed)
};

inline constexpr const char* kTargetOutputPrefix = "target.";
inline std::string TargetSecretName(const std::string& key) { return "targets/" + key; }

// What step `params.from_step` produced; empty when the module has no such outputs.
// PermanentError when they are not a JSON object of strings.
TenantTargets WantedTargets(Context& ctx, const ModuleParams& params);
// "" when the recorded outputs and secrets match `want`; else a short diff without values of secrets.
std::string TargetDifferences(Context& ctx, const TenantTargets& want);
// Writes the secrets (when they differ) and sets the target.* outputs.
void RecordTargets(Context& ctx, const TenantTargets& want);
// Deletes the secrets of the targets `params.module` produced (remove; fine when absent).
void ForgetTargets(Context& ctx, const ModuleParams& params);

}  // namespace matih::plugins::terraform
