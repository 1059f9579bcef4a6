// VaultBackend: where a tenant's vault entries live, chosen by the setting vault.backend:
//   builtin          (default) the runner's encrypted secret store, this plugin's namespace, names
//                    "entries/<entry>"; the host seals them with the tenant's data key (envelope
//                    encryption, runner/secrets) and destroys that key with the tenant's last secret.
//   azure-key-vault  Azure Key Vault secrets "t-<slug>-<entry>" in the vault vault.azure_url, tagged
//                    with the tenant; a soft-deleted entry is recovered or purged before it is
//                    written again, as vault.azure_deleted says (recover by default).
// Entry names are [a-z0-9-]. A Key Vault secret tagged for another tenant is never read or
// overwritten: PermanentError. Created per step call; not shared between threads.
#pragma once

#include <matih/step.hpp>
#include <memory>
#include <optional>
#include <string>

namespace matih::plugins::vault {

class VaultBackend {
 public:
  virtual ~VaultBackend() = default;
  virtual std::optional<std::string> Get(const std::string& entry) = 0;
  virtual void Put(const std::string& entry, const std::string& value) = 0;
  // Fine when absent.
  virtual void Delete(const std::string& entry) = 0;
  // The key an ExternalSecret's remoteRef names for `entry`.
  virtual std::string RemoteKey(const std::string& entry) const = 0;
  // "builtin" or "azure-key-vault <url>", for outputs and messages.
  virtual std::string Describe() const = 0;
};

std::unique_ptr<VaultBackend> BackendFromSettings(Context& ctx);

// Declares the settings BackendFromSettings reads; call it from MATIH_PLUGIN.
void DeclareBackendSettings(Plugin& plugin);

}  // namespace matih::plugins::vault
