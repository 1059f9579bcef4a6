// vault.vault (step 16, create-key-vault): the tenant's vault, in the backend of setting
// vault.backend (vault_backend.h). The vault holds a marker entry "vault" naming the tenant:
//   builtin          writing it makes the host create the tenant's data key (envelope encryption);
//                    reading it back proves the data key is there and unwraps under the runner's
//                    master key and that the value authenticates. Removing it (after steps 17+
//                    removed their entries) lets the host destroy the data key with the tenant's
//                    last secret (crypto-shredding).
//   azure-key-vault  the marker is a Key Vault secret tagged with the tenant; reading it proves the
//                    vault is reachable with the configured credentials.
// observe: ABSENT without the marker, DRIFTED when it differs, else IN_SYNC. apply writes only
// when it is not in sync. remove deletes the marker; fine when absent.
// Params: none. Outputs: backend, remote_key (the marker's key in the vault). Any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::vault {

class VaultStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::vault
