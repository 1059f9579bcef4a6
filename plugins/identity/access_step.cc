#include "identity/access_step.h"

#include <regex>

#include "identity/client_registration.h"
#include "identity/identity_provider.h"
#include "identity/identity_settings.h"
#include "identity/managed_identity_step.h"
#include "identity/yaml_text.h"
#include "kube_delivery/delivery_from_settings.h"

namespace matih::plugins::identity {
namespace {

// Azure built-in role definitions.
constexpr const char* kStorageBlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
constexpr const char* kKeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";

const std::regex kName("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
const std::regex kGuid("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

std::string Param(const nlohmann::json& params, const char* key, const char* fallback,
                  const std::regex& format, const char* what) {
  if (!params.contains(key)) return fallback;
  if (!params[key].is_string() || !std::regex_match(params[key].get<std::string>(), format))
    throw InvalidArgument(std::string("param ") + key + " must be " + what);
  return params[key];
}

void CheckParams(const nlohmann::json& params) {
  for (const auto& [key, value] : params.items())
    if (key != "storage_account" && key != "vault" && key != "identity_configmap" && key != "storage_role" &&
        key != "vault_role")
      throw InvalidArgument("unknown param " + key + " of identity.access");
  for (const char* key : {"storage_account", "vault", "identity_configmap"})
    Param(params, key, "x", kName, "a Kubernetes object name");
  for (const char* key : {"storage_role", "vault_role"})
    Param(params, key, kKeyVaultSecretsUser, kGuid, "a GUID");
}

ObjectBatch RoleAssignments(const Context& ctx) {
  const auto params = ParamsObject(ctx.params_json());
  CheckParams(params);
  const std::string subscription = ctx.required_setting("identity.azure_subscription_id");
  if (!std::regex_match(subscription, kGuid))
    throw InvalidArgument("setting identity.azure_subscription_id must be a subscription GUID");
  const std::string slug = ctx.slug(), ns = "tenant-" + slug;
  const std::string configmap =
      Param(params, "identity_configmap", "tenant-workloads-identity", kName, "a Kubernetes object name");
  auto assignment = [&](const std::string& what, nlohmann::json owner, const std::string& role) {
    return nlohmann::json{
        {"apiVersion", "authorization.azure.com/v1api20220401"},
        {"kind", "RoleAssignment"},
        {"metadata",
         {{"name", "tenant-workloads-" + what},
          {"namespace", ns},
          {"labels",
           {{"matih.ai/tenant-slug", slug}, {"app.kubernetes.io/managed-by", "matih-provisioner"}}}}},
        {"spec",
         {{"owner", std::move(owner)},
          {"principalIdFromConfig", {{"name", configmap}, {"key", "principalId"}}},
          {"principalType", "ServicePrincipal"},
          {"roleDefinitionReference",
           {{"armId", "/subscriptions/" + subscription +
                          "/providers/Microsoft.Authorization/roleDefinitions/" + role}}}}},
    };
  };
  const auto containers = assignment(
      "containers",
      {{"group", "storage.azure.com"},
       {"kind", "StorageAccount"},
       {"name", Param(params, "storage_account", "tenant-storage", kName, "a Kubernetes object name")}},
      Param(params, "storage_role", kStorageBlobDataContributor, kGuid, "a GUID"));
  const auto vault =
      assignment("vault",
                 {{"group", "keyvault.azure.com"},
                  {"kind", "Vault"},
                  {"name", Param(params, "vault", "tenant-vault", kName, "a Kubernetes object name")}},
                 Param(params, "vault_role", kKeyVaultSecretsUser, kGuid, "a GUID"));
  return MakeBatch(slug, ctx.step_name(), ctx.run_id(), DeliveryMode::kObject, YamlText({containers, vault}));
}

nlohmann::json Grants(const Context& ctx) { return {{"matih_access", GrantedResources(ctx.slug())}}; }

}  // namespace

nlohmann::json GrantedResources(const std::string& slug) {
  return {"urn:matih:tenant:" + slug + ":containers", "urn:matih:tenant:" + slug + ":vault"};
}

void AccessStep::validate_params(std::string_view params_json) { CheckParams(ParamsObject(params_json)); }

Observation AccessStep::observe(Context& ctx) {
  const auto batch = RoleAssignments(ctx);
  IdentityProvider idp(*http_, ProviderSettingsFrom(ctx), Who(ctx));
  ClientRegistration registration(ctx, idp, kManagedIdentitySecret);
  const auto current = registration.Current();
  const auto objects = DeliveryFromSettings(ctx)->Observe(batch);
  const bool granted = current && current->contains("matih_access");
  if (!granted && objects.state == Observation::State::kAbsent) return Observation::Absent();
  std::string diff;
  if (!current && registration.token_lost())
    diff =
        "the identity provider refuses the stored registration access token of the managed identity "
        "(an update's answer was lost); apply adopts it again";
  else if (!current)
    diff = "the managed identity of step 18 is absent at the identity provider";
  else
    diff = MetadataDiff(Grants(ctx), *current);
  if (objects.state == Observation::State::kAbsent)
    diff += std::string(diff.empty() ? "" : "; ") + "RoleAssignments not delivered";
  if (objects.state == Observation::State::kDrifted)
    diff += std::string(diff.empty() ? "" : "; ") + objects.diff;
  return diff.empty() ? Observation::InSync() : Observation::Drifted(diff);
}

void AccessStep::apply(Context& ctx) {
  const auto batch = RoleAssignments(ctx);
  IdentityProvider idp(*http_, ProviderSettingsFrom(ctx), Who(ctx));
  ClientRegistration registration(ctx, idp, kManagedIdentitySecret);
  auto current = registration.Current();
  // Our grant's answer was lost (the runner killed after the update, or the reply cut): the
  // registration access token rotated, the identity lives on. Adopted under its key.
  if (!current && registration.token_lost()) {
    if (ctx.dry_run()) return;
    current = registration.Adopt({});
  }
  if (!current)
    throw PermanentError(Who(ctx) + ": the managed identity is absent at the identity provider " +
                         idp.issuer() + "; step 18 (identity.managed) must run first");
  if (ctx.dry_run()) return;
  if (!MetadataDiff(Grants(ctx), *current).empty()) registration.Replace(UpdateBody(*current, Grants(ctx)));
  DeliveryFromSettings(ctx)->Apply(batch);

  // Proof: the identity gets a token for each granted resource with its stored secret.
  const auto secret = registration.StoredSecret();
  if (!secret)
    throw PermanentError(Who(ctx) + ": the managed identity's client secret is not in the secret store");
  const bool post = current->value("token_endpoint_auth_method", "") == "client_secret_post";
  for (const auto& resource : GrantedResources(ctx.slug())) {
    auto answer = idp.ClientCredentials(current->value("client_id", ""), *secret, resource, post);
    if (!answer.granted)
      throw PermanentError(Who(ctx) + ": the identity provider refused a token for " +
                           resource.get<std::string>() + " after the grant (" + answer.error + ": " +
                           answer.error_description + ")");
  }
  std::string resources;
  for (const auto& r : GrantedResources(ctx.slug()))
    resources += (resources.empty() ? "" : ",") + r.get<std::string>();
  ctx.set_output("resources", resources);
}

void AccessStep::remove(Context& ctx) {
  const auto batch = RoleAssignments(ctx);
  IdentityProvider idp(*http_, ProviderSettingsFrom(ctx), Who(ctx));
  ClientRegistration registration(ctx, idp, kManagedIdentitySecret);
  auto current = registration.Current();
  if (!current && registration.token_lost()) current = registration.Adopt({});
  if (current && current->contains("matih_access"))
    registration.Replace(UpdateBody(*current, {{"matih_access", nullptr}}));
  DeliveryFromSettings(ctx)->Remove(batch);
}

}  // namespace matih::plugins::identity
