#include "identity/service_principal_step.h"

#include "identity/identity_provider.h"
#include "identity/identity_settings.h"

namespace matih::plugins::identity {

void ServicePrincipalStep::validate_params(std::string_view params_json) {
  if (!ParamsObject(params_json).empty()) throw InvalidArgument("identity.service_principal takes no params");
}

void ServicePrincipalStep::Validate(Context& ctx) {
  const std::string id = ctx.required_setting("identity.service_principal_id");
  const std::string secret = ctx.required_setting("identity.service_principal_secret");
  IdentityProvider idp(*http_, ProviderSettingsFrom(ctx), Who(ctx));
  const auto answer = idp.ClientCredentials(id, secret);
  if (answer.granted) return;
  throw PermanentError(
      Who(ctx) + ": the identity provider " + idp.issuer() + " refused the service principal " + id + " (" +
      answer.error + (answer.error_description.empty() ? "" : ": " + answer.error_description) +
      "); check settings identity.service_principal_id and identity.service_principal_secret");
}

Observation ServicePrincipalStep::observe(Context& ctx) {
  Validate(ctx);
  return ctx.output(ctx.step_name(), "service_principal_id") == ctx.setting("identity.service_principal_id")
             ? Observation::InSync()
             : Observation::Absent();
}

void ServicePrincipalStep::apply(Context& ctx) {
  Validate(ctx);
  ctx.set_output("service_principal_id", ctx.required_setting("identity.service_principal_id"));
}

void ServicePrincipalStep::remove(Context& /*ctx*/) {}

}  // namespace matih::plugins::identity
