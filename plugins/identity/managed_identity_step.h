// ManagedIdentityStep (kind identity.managed, step 18 create-managed-identity): the identity the
// tenant's workloads authenticate as: a confidential client at the identity provider with only
// the client_credentials grant (Entra ID's user-assigned managed identity plays this part in
// production; workload federation, step 19, binds it to the tenant's ServiceAccount).
//
// Output client_id (and issuer); client secret and registration in the secret store as
// "managed-identity/client_secret" and "managed-identity/registration". Apply ends with a real
// client_credentials token request with the stored credentials; a refusal is a permanent error.
// Params: token_endpoint_auth_method: client_secret_basic (default) | client_secret_post.
// Threads: see RegisteredClientStep.
#pragma once

#include "identity/registered_client_step.h"

namespace matih::plugins::identity {

inline constexpr const char* kManagedIdentitySecret = "managed-identity";

class ManagedIdentityStep final : public RegisteredClientStep {
 public:
  explicit ManagedIdentityStep(std::shared_ptr<PooledHttp> http)
      : RegisteredClientStep(std::move(http), kManagedIdentitySecret) {}
  void validate_params(std::string_view params_json) override;

 protected:
  nlohmann::json Desired(const Context& ctx) const override;
  void Verify(Context& ctx, IdentityProvider& idp, const std::string& client_id,
              const std::string& secret) override;
};

// The token endpoint auth method of params (default client_secret_basic); InvalidArgument otherwise.
std::string TokenAuthMethod(const nlohmann::json& params);

}  // namespace matih::plugins::identity
