#include "engine/tenant_targets.h"

#include "secrets/secret_store.h"

namespace matih::runner {

bool TenantTargets::Declared(const DeclaredSettings& declared, const std::string& key, bool* secret,
                             std::string* plugin) {
  bool found = false;
  bool any_secret = false;
  for (const auto& [name, keys] : declared) {
    for (const auto& [declared_key, is_secret] : keys) {
      const bool prefix = !declared_key.empty() && declared_key.back() == '*';
      const bool match =
          prefix ? key.rfind(declared_key.substr(0, declared_key.size() - 1), 0) == 0 : key == declared_key;
      if (!match) continue;
      if (!found && plugin) *plugin = name;
      found = true;
      // Declared secret by any plugin: secret for all of them.
      any_secret = any_secret || is_secret;
    }
  }
  if (secret) *secret = any_secret;
  return found;
}

bool TenantTargets::HasOverlay(const TenantOutputs& outputs) {
  for (const auto& [step, values] : outputs)
    for (const auto& [key, value] : values)
      if (key.rfind(kOutputPrefix, 0) == 0) return true;
  return false;
}

Result<std::map<std::string, std::string>> TenantTargets::Overlay(const Inputs& in) {
  std::map<std::string, std::string> overlay;
  if (!in.outputs) return overlay;
  const std::string prefix = kOutputPrefix;
  const std::string vault = kVaultPrefix;
  for (const auto& [step, values] : *in.outputs) {
    for (const auto& [output, value] : values) {
      if (output.rfind(prefix, 0) != 0) continue;
      const std::string key = output.substr(prefix.size());
      const std::string where = "output " + output + " of step " + step;
      if (overlay.count(key))
        return FailedPrecondition(where + ": setting " + key + " is chosen by two steps' outputs");
      bool secret = false;
      if (key.empty() || !in.declared || !Declared(*in.declared, key, &secret))
        return FailedPrecondition(where +
                                  " names no setting a loaded plugin declares; only declared [targets] "
                                  "settings can be chosen by a tenant's infrastructure");
      if (value.rfind(vault, 0) == 0) {
        const std::string name = value.substr(vault.size());
        const std::string owner = in.plugin_of ? in.plugin_of(step) : "";
        if (name.empty() || owner.empty())
          return FailedPrecondition(where + " refers to a vault secret without a name or an owning plugin");
        if (!in.secrets)
          return FailedPrecondition(where + " is a vault secret but no secret store is configured");
        auto got = in.secrets->Get(in.tenant_id, owner + "/" + name);
        if (got.status().code() == Code::kNotFound)
          return FailedPrecondition(where + ": secret " + owner + "/" + name + " is missing from the vault");
        if (!got.ok()) return Unavailable(where + ": secret store: " + got.status().message());
        overlay[key] = *got;
      } else {
        if (secret)
          return FailedPrecondition(where + " would carry the secret setting " + key +
                                    " in the clear; record it as vault:<secret name>");
        overlay[key] = value;
      }
    }
  }
  return overlay;
}

}  // namespace matih::runner
