#include "identity/federation_step.h"

#include <regex>

#include "common/settings.h"
#include "identity/client_registration.h"
#include "identity/identity_settings.h"
#include "identity/managed_identity_step.h"
#include "identity/yaml_text.h"
#include "kube_delivery/delivery_from_settings.h"

namespace matih::plugins::identity {
namespace {

const std::regex kName("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

std::string NameParam(const nlohmann::json& params, const char* key, const char* fallback) {
  if (!params.contains(key)) return fallback;
  if (!params[key].is_string() || !std::regex_match(params[key].get<std::string>(), kName))
    throw InvalidArgument(std::string("param ") + key + " must be a Kubernetes object name");
  return params[key];
}

nlohmann::json Audiences(const nlohmann::json& params) {
  if (!params.contains("audiences")) return {"api://AzureADTokenExchange"};
  const auto& audiences = params["audiences"];
  if (!audiences.is_array() || audiences.empty())
    throw InvalidArgument("param audiences must be a non-empty list of strings");
  for (const auto& a : audiences)
    if (!a.is_string() || a.get<std::string>().empty())
      throw InvalidArgument("param audiences must be a non-empty list of strings");
  return audiences;
}

void CheckParams(const nlohmann::json& params) {
  for (const auto& [key, value] : params.items())
    if (key != "service_account" && key != "identity_name" && key != "audiences")
      throw InvalidArgument("unknown param " + key + " of identity.federation");
  NameParam(params, "service_account", "tenant-workloads");
  NameParam(params, "identity_name", "tenant-workloads");
  Audiences(params);
}

// The two batches of this step: the ServiceAccount patch and the credential object.
struct Batches {
  ObjectBatch patch, credential;
};

Batches Render(const Context& ctx, const std::string& client_id) {
  const auto params = ParamsObject(ctx.params_json());
  CheckParams(params);
  const std::string slug = ctx.slug(), ns = "tenant-" + slug;
  const std::string sa = NameParam(params, "service_account", "tenant-workloads");
  const std::string issuer =
      SettingOr(ctx, "identity.cluster_issuer_url", "https://kubernetes.default.svc.cluster.local");
  const nlohmann::json service_account = {
      {"apiVersion", "v1"},
      {"kind", "ServiceAccount"},
      {"metadata",
       {{"name", sa},
        {"namespace", ns},
        {"annotations", {{"azure.workload.identity/client-id", client_id}}},
        {"labels", {{"azure.workload.identity/use", "true"}}}}},
  };
  const nlohmann::json credential = {
      {"apiVersion", "managedidentity.azure.com/v1api20230131"},
      {"kind", "FederatedIdentityCredential"},
      {"metadata",
       {{"name", sa + "-federation"},
        {"namespace", ns},
        {"labels", {{"matih.ai/tenant-slug", slug}, {"app.kubernetes.io/managed-by", "matih-provisioner"}}}}},
      {"spec",
       {{"owner", {{"name", NameParam(params, "identity_name", "tenant-workloads")}}},
        {"audiences", Audiences(params)},
        {"issuer", issuer},
        {"subject", "system:serviceaccount:" + ns + ":" + sa}}},
  };
  return {MakeBatch(slug, ctx.step_name(), ctx.run_id(), DeliveryMode::kPatch, YamlText({service_account})),
          MakeBatch(slug, ctx.step_name() + "-credential", ctx.run_id(), DeliveryMode::kObject,
                    YamlText({credential}))};
}

// The managed identity's client_id from step 18's registration, or "" when there is none.
std::string ManagedClientId(const Context& ctx) {
  auto text = ctx.secret(std::string(kManagedIdentitySecret) + "/registration");
  if (!text) return "";
  auto json = nlohmann::json::parse(*text, nullptr, false);
  return json.is_object() && json.contains("client_id") && json["client_id"].is_string()
             ? json["client_id"].get<std::string>()
             : "";
}

}  // namespace

void FederationStep::validate_params(std::string_view params_json) { CheckParams(ParamsObject(params_json)); }

Observation FederationStep::observe(Context& ctx) {
  const std::string client_id = ManagedClientId(ctx);
  // Without an identity the files cannot be rendered; what is delivered is then stale or absent.
  const auto batches = Render(ctx, client_id.empty() ? "(none)" : client_id);
  auto delivery = DeliveryFromSettings(ctx);
  const auto patch = delivery->Observe(batches.patch);
  const auto credential = delivery->Observe(batches.credential);
  using State = Observation::State;
  if (patch.state == State::kAbsent && credential.state == State::kAbsent) return Observation::Absent();
  if (client_id.empty()) return Observation::Drifted("the managed identity of step 18 is gone");
  std::string diff;
  for (const auto* o : {&patch, &credential}) {
    const char* what = o == &patch ? "ServiceAccount patch" : "FederatedIdentityCredential";
    if (o->state == State::kAbsent) diff += std::string(diff.empty() ? "" : "; ") + what + " not delivered";
    if (o->state == State::kDrifted) diff += std::string(diff.empty() ? "" : "; ") + o->diff;
  }
  return diff.empty() ? Observation::InSync() : Observation::Drifted(diff);
}

void FederationStep::apply(Context& ctx) {
  const std::string client_id = ManagedClientId(ctx);
  if (client_id.empty())
    throw PermanentError(Who(ctx) +
                         ": no managed identity to federate; step 18 (identity.managed) must run first");
  const auto batches = Render(ctx, client_id);
  if (ctx.dry_run()) return;
  auto delivery = DeliveryFromSettings(ctx);
  delivery->Apply(batches.patch);
  delivery->Apply(batches.credential);
  ctx.set_output("client_id", client_id);
  ctx.set_output("subject", batches.credential.objects.at(0).body["spec"]["subject"].get<std::string>());
}

void FederationStep::remove(Context& ctx) {
  const auto batches = Render(ctx, "(none)");  // only names matter to Remove
  auto delivery = DeliveryFromSettings(ctx);
  delivery->Remove(batches.credential);
  delivery->Remove(batches.patch);
}

}  // namespace matih::plugins::identity
