// SsoClientStep (kind identity.sso_client, step 46 register-identity-provider): the tenant's
// single sign-on client, registered by Dynamic Client Registration (RFC 7591) and kept converged
// with its management protocol (RFC 7592): redirect URIs https://<host>.<slug>.<parent zone>
// <callback_path> for each of the tenant's hosts, grant types authorization_code + refresh_token,
// response type code.
//
// Hosts: param hosts (list, default [api, bi]) plus the services of the tenant's spec; the parent
// zone from setting identity.parent_zone. Params: hosts, callback_path (default
// /oauth2/callback), token_endpoint_auth_method (client_secret_basic | client_secret_post).
// Output client_id, issuer, redirect_uris; secrets "sso-client/client_secret" (shared with other
// plugins: an oauth2-proxy needs it) and "sso-client/registration" (the rotated registration
// access token). Threads: see RegisteredClientStep.
#pragma once

#include "identity/registered_client_step.h"

namespace matih::plugins::identity {

inline constexpr const char* kSsoClientSecret = "sso-client";

class SsoClientStep final : public RegisteredClientStep {
 public:
  explicit SsoClientStep(std::shared_ptr<PooledHttp> http)
      : RegisteredClientStep(std::move(http), kSsoClientSecret) {}
  void validate_params(std::string_view params_json) override;

 protected:
  nlohmann::json Desired(const Context& ctx) const override;
  void RecordOutputs(Context& ctx, const nlohmann::json& record) override;
};

}  // namespace matih::plugins::identity
