#include "kubernetes/object_step.h"

#include <nlohmann/json.hpp>

#include "common/settings.h"
#include "common/template_renderer.h"
#include "common/tenant_spec.h"
#include "kube_delivery/delivery_from_settings.h"

namespace matih::plugins {
namespace {

nlohmann::json ParseParams(std::string_view text) {
  auto params = nlohmann::json::parse(text.empty() ? std::string_view("{}") : text, nullptr, false);
  if (!params.is_object()) throw InvalidArgument("params must be an object");
  return params;
}

DeliveryMode ModeOf(const nlohmann::json& params) {
  if (!params.contains("mode") || params["mode"] == "object") return DeliveryMode::kObject;
  if (params["mode"] == "patch") return DeliveryMode::kPatch;
  throw InvalidArgument("param mode must be object or patch");
}

// params[key][tier], or an empty object.
nlohmann::json PerTier(const nlohmann::json& params, const char* key, const std::string& tier) {
  if (params.contains(key) && params[key].is_object() && params[key].contains(tier)) return params[key][tier];
  return nlohmann::json::object();
}

void CheckParams(std::string_view params_json) {
  auto params = ParseParams(params_json);
  if (!params.contains("template") || !params["template"].is_string())
    throw InvalidArgument("param template (a file name in the template directory) is required");
  const auto name = params["template"].get<std::string>();
  if (name.empty() || name.find('/') != std::string::npos || name.find("..") != std::string::npos)
    throw InvalidArgument("param template must be a plain file name");
  ModeOf(params);
  for (const char* key : {"sizes", "limits"})
    if (params.contains(key) && !params[key].is_object())
      throw InvalidArgument(std::string("param ") + key + " must map tiers to values");
}

}  // namespace

void KubernetesObjectStep::validate_params(std::string_view params_json) { CheckParams(params_json); }

ObjectBatch KubernetesObjectStep::Render(const Context& ctx) {
  const auto params = ParseParams(ctx.params_json());
  CheckParams(ctx.params_json());
  const auto spec = TenantSpec::Parse(ctx.spec_json());
  const std::string tier = ctx.tier(), slug = ctx.slug();

  nlohmann::json values = {
      {"tenant_id", ctx.tenant_id()},
      {"slug", slug},
      {"tier", tier},
      {"region", spec.region()},
      {"display_name", spec.display_name(slug)},
      {"namespace", "tenant-" + slug},
      {"managed_by", SettingOr(ctx, "kubernetes.managed_by", "matih-provisioner")},
      {"params", params},
  };
  nlohmann::json sizes = PerTier(params, "sizes", tier);
  if (tier == "enterprise" && spec.raw().contains("quotas") && spec.raw()["quotas"].is_object())
    sizes.update(spec.raw()["quotas"]);
  if (params.contains("sizes") && sizes.empty())
    throw InvalidArgument("no sizes for tier " + tier +
                          (tier == "enterprise" ? " (the spec has no quotas)" : ""));
  values["sizes"] = sizes;
  values["limits"] = PerTier(params, "limits", tier);
  if (params.contains("limits") && values["limits"].empty())
    throw InvalidArgument("no limits for tier " + tier);

  const std::string dir = params.contains("templates_dir") && params["templates_dir"].is_string()
                              ? params["templates_dir"].get<std::string>()
                              : ctx.required_setting("templates.dir");
  std::string rendered = TemplateRenderer(dir).Render(params["template"].get<std::string>(), values);
  return MakeBatch(slug, ctx.step_name(), ctx.run_id(), ModeOf(params), std::move(rendered));
}

void KubernetesObjectStep::SetOutputs(Context& ctx, const ObjectBatch& batch) {
  std::string objects;
  for (const auto& o : batch.objects) objects += (objects.empty() ? "" : ",") + o.kind + " " + o.name;
  ctx.set_output("namespace", "tenant-" + batch.tenant_slug);
  ctx.set_output("objects", objects);
}

Observation KubernetesObjectStep::observe(Context& ctx) {
  const ObjectBatch batch = Render(ctx);
  Observation found = DeliveryFromSettings(ctx)->Observe(batch);
  // Adoptable (plugin.cc): what an apply made and never recorded is found here with its outputs.
  if (found.state == Observation::State::kInSync) SetOutputs(ctx, batch);
  return found;
}

void KubernetesObjectStep::apply(Context& ctx) {
  const ObjectBatch batch = Render(ctx);
  DeliveryFromSettings(ctx)->Apply(batch);
  SetOutputs(ctx, batch);
}

void KubernetesObjectStep::remove(Context& ctx) { DeliveryFromSettings(ctx)->Remove(Render(ctx)); }

}  // namespace matih::plugins
