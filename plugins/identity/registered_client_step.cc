#include "identity/registered_client_step.h"

#include "identity/identity_settings.h"

namespace matih::plugins::identity {
namespace {

// The provider's client_secret when it shows it; "" for clients without one.
std::string SecretOf(const nlohmann::json& record) {
  return record.contains("client_secret") && record["client_secret"].is_string()
             ? record["client_secret"].get<std::string>()
             : "";
}

}  // namespace

nlohmann::json RegisteredClientStep::DesiredWithKey(const Context& ctx) const {
  auto desired = Desired(ctx);
  desired[kRegistrationKeyField] = RegistrationKey(secret_name_, ctx.slug());
  return desired;
}

Observation RegisteredClientStep::observe(Context& ctx) {
  const auto desired = DesiredWithKey(ctx);
  IdentityProvider idp(*http_, ProviderSettingsFrom(ctx), Who(ctx));
  ClientRegistration registration(ctx, idp, secret_name_);
  auto current = registration.Current();
  if (!current && registration.token_lost())
    return Observation::Drifted(
        "the identity provider refuses the stored registration access token of client " +
        registration.Stored()->client_id + " (an update's answer was lost); apply adopts the client again");
  if (!current) return Observation::Absent();
  std::string diff = MetadataDiff(desired, *current);
  const std::string secret = SecretOf(*current);
  if (!secret.empty() && registration.StoredSecret() != secret)
    diff +=
        std::string(diff.empty() ? "" : "; ") + "the client secret in the secret store is not the provider's";
  return diff.empty() ? Observation::InSync() : Observation::Drifted(diff);
}

void RegisteredClientStep::apply(Context& ctx) {
  const auto desired = DesiredWithKey(ctx);
  IdentityProvider idp(*http_, ProviderSettingsFrom(ctx), Who(ctx));
  ClientRegistration registration(ctx, idp, secret_name_);
  auto current = registration.Current();
  nlohmann::json record;
  if (!current && registration.token_lost()) {
    if (ctx.dry_run()) return;
    // Adopted with what it had (fields other steps own included), then converged below.
    current = registration.Adopt({});
  }
  if (!current) {
    if (ctx.dry_run()) return;
    record = registration.Register(desired, InitialAccessToken(ctx));
    ctx.info("registered client " + record["client_id"].get<std::string>() + " at " + idp.issuer());
  } else if (MetadataDiff(desired, *current).empty()) {
    record = *current;
  } else {
    if (ctx.dry_run()) return;
    record = registration.Replace(UpdateBody(*current, desired));
    ctx.info("updated client " + record["client_id"].get<std::string>() + " at " + idp.issuer());
  }
  const std::string secret = SecretOf(record);
  if (!secret.empty() && registration.StoredSecret() != secret) registration.StoreSecret(secret);
  const std::string client_id = record["client_id"];
  ctx.set_output("client_id", client_id);
  ctx.set_output("issuer", idp.issuer());
  RecordOutputs(ctx, record);
  Verify(ctx, idp, client_id, secret);
}

void RegisteredClientStep::remove(Context& ctx) {
  IdentityProvider idp(*http_, ProviderSettingsFrom(ctx), Who(ctx));
  ClientRegistration(ctx, idp, secret_name_).Remove();
}

}  // namespace matih::plugins::identity
