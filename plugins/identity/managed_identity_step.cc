#include "identity/managed_identity_step.h"

#include "identity/identity_settings.h"

namespace matih::plugins::identity {

std::string TokenAuthMethod(const nlohmann::json& params) {
  if (!params.contains("token_endpoint_auth_method")) return "client_secret_basic";
  const auto& method = params["token_endpoint_auth_method"];
  if (method != "client_secret_basic" && method != "client_secret_post")
    throw InvalidArgument(
        "param token_endpoint_auth_method must be client_secret_basic or client_secret_post");
  return method;
}

void ManagedIdentityStep::validate_params(std::string_view params_json) {
  const auto params = ParamsObject(params_json);
  for (const auto& [key, value] : params.items())
    if (key != "token_endpoint_auth_method")
      throw InvalidArgument("unknown param " + key + " of identity.managed");
  TokenAuthMethod(params);
}

nlohmann::json ManagedIdentityStep::Desired(const Context& ctx) const {
  const auto params = ParamsObject(ctx.params_json());
  return {
      {"client_name", "matih tenant " + ctx.slug() + " workloads"},
      {"grant_types", {"client_credentials"}},
      {"response_types", nlohmann::json::array()},
      {"redirect_uris", nlohmann::json::array()},
      {"token_endpoint_auth_method", TokenAuthMethod(params)},
      {"matih_tenant", ctx.slug()},
  };
}

void ManagedIdentityStep::Verify(Context& ctx, IdentityProvider& idp, const std::string& client_id,
                                 const std::string& secret) {
  const auto method = TokenAuthMethod(ParamsObject(ctx.params_json()));
  auto answer = idp.ClientCredentials(client_id, secret, "", method == "client_secret_post");
  if (!answer.granted)
    throw PermanentError(Who(ctx) + ": the identity provider " + idp.issuer() +
                         " refused a client_credentials token " + "to managed identity " + client_id +
                         " with its stored secret (" + answer.error +
                         (answer.error_description.empty() ? "" : ": " + answer.error_description) + ")");
}

}  // namespace matih::plugins::identity
