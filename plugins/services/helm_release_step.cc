#include "services/helm_release_step.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/settings.h"
#include "common/tenant_spec.h"
#include "kube_delivery/delivery_from_settings.h"
#include "services/release_params.h"
#include "services/values_schema.h"
#include "services/yaml_writer.h"

namespace matih::plugins::services {
namespace {

nlohmann::json Labels(const Context& ctx, const std::string& service) {
  return {{"matih.ai/tenant-id", ctx.tenant_id()},
          {"matih.ai/tenant-slug", ctx.slug()},
          {"matih.ai/tier", ctx.tier()},
          {"matih.ai/service", service},
          {"app.kubernetes.io/managed-by", SettingOr(ctx, "kubernetes.managed_by", "matih-provisioner")}};
}

std::string PublicUrl(const Context& ctx, const std::string& service) {
  const std::string zone = SettingOr(ctx, "services.parent_zone", "");
  return zone.empty() ? "" : "https://" + service + "." + ctx.slug() + "." + zone;
}

// The release's values: catalog values, the tier's, earlier outputs, then our own block; checked
// against the service's schema.
nlohmann::json Values(const Context& ctx, const ReleaseParams& p, const TenantSpec& spec,
                      std::vector<std::string>& wired) {
  nlohmann::json values = p.ValuesForTier(ctx.tier());
  for (const auto& in : p.from_outputs) {
    auto value = ctx.output(in.step, in.output);
    if (!value) continue;  // that step has not run (or is not built yet): the chart's default holds
    values[nlohmann::json::json_pointer(in.pointer)] = *value;
    wired.push_back(in.pointer);
  }
  nlohmann::json matih = {
      {"tenant",
       {{"id", ctx.tenant_id()}, {"slug", ctx.slug()}, {"tier", ctx.tier()}, {"region", spec.region()}}},
      {"service", p.service}};
  if (const std::string url = PublicUrl(ctx, p.service); !url.empty()) matih["publicUrl"] = url;
  values["matih"] = matih;

  const std::string dir = ctx.required_setting("services.values_schema_dir");
  const auto schema = ValuesSchema::Load(dir + "/" + p.service + ".values.schema.json");
  const auto violations = schema.Violations(values);
  if (!violations.empty()) {
    std::string text;
    for (size_t i = 0; i < violations.size() && i < 5; ++i) text += (i ? "; " : "") + violations[i];
    if (violations.size() > 5) text += "; and " + std::to_string(violations.size() - 5) + " more";
    throw InvalidArgument("service " + p.service + " (step " + ctx.step_name() + "): values for tier " +
                          ctx.tier() + " do not satisfy " + schema.origin() + ": " + text);
  }
  return values;
}

}  // namespace

void HelmReleaseStep::validate_params(std::string_view params_json) { ReleaseParams::Parse(params_json); }

HelmReleaseStep::Rendered HelmReleaseStep::Render(const Context& ctx, bool for_removal) {
  Rendered r;
  r.params = ReleaseParams::Parse(ctx.params_json());
  const ReleaseParams& p = r.params;
  const auto spec = TenantSpec::Parse(ctx.spec_json());
  const auto services = spec.services();
  r.requested = std::find(services.begin(), services.end(), p.service) != services.end();

  const std::string ns = "tenant-" + ctx.slug();
  const std::string source = p.service + "-charts";
  nlohmann::json repository = {
      {"apiVersion", "source.toolkit.fluxcd.io/v1"},
      {"kind", "HelmRepository"},
      {"metadata", {{"name", source}, {"namespace", ns}, {"labels", Labels(ctx, p.service)}}},
      {"spec", {{"url", p.repository}, {"interval", "1h"}}}};
  if (p.repository.rfind("oci://", 0) == 0) repository["spec"]["type"] = "oci";

  nlohmann::json release = {
      {"apiVersion", "helm.toolkit.fluxcd.io/v2"},
      {"kind", "HelmRelease"},
      {"metadata", {{"name", p.service}, {"namespace", ns}, {"labels", Labels(ctx, p.service)}}},
      {"spec",
       {{"interval", p.interval},
        {"releaseName", p.service},
        {"chart",
         {{"spec",
           {{"chart", p.chart_name},
            {"version", p.chart_version},
            {"reconcileStrategy", "ChartVersion"},
            {"sourceRef", {{"kind", "HelmRepository"}, {"name", source}}}}}}},
        {"install", {{"remediation", {{"retries", 3}}}}},
        {"upgrade",
         {{"cleanupOnFail", true}, {"remediation", {{"retries", 3}, {"remediateLastFailure", true}}}}}}}};
  // Removal needs only the objects' names, and a service the tenant did not ask for is only ever
  // removed: their values are neither computed nor checked (the tier may have none).
  if (r.requested && !for_removal) release["spec"]["values"] = Values(ctx, p, spec, r.wired);

  r.batch = MakeBatch(ctx.slug(), ctx.step_name(), ctx.run_id(), DeliveryMode::kObject,
                      JsonToYaml({repository, release}));
  return r;
}

void HelmReleaseStep::SetOutputs(Context& ctx, const Rendered& r) {
  const ReleaseParams& p = r.params;
  ctx.set_output("release", p.service);
  ctx.set_output("namespace", "tenant-" + ctx.slug());
  std::string wired;
  for (const auto& w : r.wired) wired += (wired.empty() ? "" : ",") + w;
  ctx.set_output("deployed", r.requested ? "true" : "false");
  ctx.set_output("chart", r.requested ? p.chart_name + "@" + p.chart_version : "");
  ctx.set_output("url", r.requested ? PublicUrl(ctx, p.service) : "");
  ctx.set_output("wired_outputs", wired);
}

Observation HelmReleaseStep::observe(Context& ctx) {
  const Rendered r = Render(ctx);
  Observation found = DeliveryFromSettings(ctx)->Observe(r.batch);
  if (!r.requested) {
    if (found.state != Observation::State::kAbsent)
      return Observation::Drifted("service " + r.params.service +
                                  " is not in the tenant's services, but its HelmRelease is still delivered");
    found = Observation::InSync();
  }
  // Adoptable (plugin.cc): what an apply made and never recorded is found here with its outputs.
  if (found.state == Observation::State::kInSync) SetOutputs(ctx, r);
  return found;
}

void HelmReleaseStep::apply(Context& ctx) {
  const Rendered r = Render(ctx);
  auto delivery = DeliveryFromSettings(ctx);
  if (r.requested)
    delivery->Apply(r.batch);
  else
    delivery->Remove(r.batch);
  SetOutputs(ctx, r);
}

void HelmReleaseStep::remove(Context& ctx) { DeliveryFromSettings(ctx)->Remove(Render(ctx, true).batch); }

}  // namespace matih::plugins::services
