#include "network/network_objects.h"

#include "common/settings.h"
#include "common/template_renderer.h"

namespace matih::plugins::network {

nlohmann::json TenantValues(const Context& ctx, const ZoneParams& zone, const nlohmann::json& params) {
  const std::string slug = ctx.slug();
  return {
      {"tenant_id", ctx.tenant_id()},
      {"slug", slug},
      {"namespace", "tenant-" + slug},
      {"zone", WithoutDot(zone.TenantZone(slug))},
      {"ingress_class", "nginx-" + slug},
      {"managed_by", SettingOr(ctx, "kubernetes.managed_by", "matih-provisioner")},
      {"params", params},
  };
}

ObjectBatch RenderObjects(const Context& ctx, const std::string& template_name,
                          const nlohmann::json& values) {
  std::string rendered =
      TemplateRenderer(ctx.required_setting("templates.dir")).Render(template_name, values);
  return MakeBatch(ctx.slug(), ctx.step_name(), ctx.run_id(), DeliveryMode::kObject, std::move(rendered));
}

Observation Combine(const std::vector<std::pair<std::string, Observation>>& parts) {
  size_t absent = 0, in_sync = 0;
  std::string diff;
  for (const auto& [name, o] : parts) {
    if (o.state == Observation::State::kAbsent) ++absent;
    if (o.state == Observation::State::kInSync) ++in_sync;
    const std::string what = o.state == Observation::State::kAbsent    ? "missing"
                             : o.state == Observation::State::kDrifted ? o.diff
                                                                       : "";
    if (!what.empty()) diff += (diff.empty() ? "" : "; ") + name + ": " + what;
  }
  if (absent == parts.size()) return Observation::Absent();
  if (in_sync == parts.size()) return Observation::InSync();
  return Observation::Drifted(diff);
}

int IntParam(const nlohmann::json& params, const char* key, int fallback, int min, int max) {
  if (!params.contains(key)) return fallback;
  const auto& v = params[key];
  if (!v.is_number_integer() || v.get<long long>() < min || v.get<long long>() > max)
    throw InvalidArgument(std::string("param ") + key + " must be an integer from " + std::to_string(min) +
                          " to " + std::to_string(max));
  return v.get<int>();
}

std::string StringParam(const nlohmann::json& params, const char* key, const std::string& fallback) {
  if (!params.contains(key)) return fallback;
  if (!params[key].is_string() || params[key].get<std::string>().empty())
    throw InvalidArgument(std::string("param ") + key + " must be a non-empty string");
  return params[key].get<std::string>();
}

}  // namespace matih::plugins::network
