#include "network/ingress_controller_step.h"

#include <thread>

#include "kube_delivery/delivery_from_settings.h"
#include "network/https_probe.h"
#include "network/local_nginx.h"
#include "network/network_objects.h"

namespace matih::plugins::network {
namespace {

struct ControllerCall {
  nlohmann::json params;
  ZoneParams zone;
  std::string zone_name;  // no final dot
  nlohmann::json values;
  std::string template_name;

  explicit ControllerCall(const Context& ctx) {
    params = ParseParamsObject(ctx.params_json());
    Check(params);
    zone = ZoneParams::Parse(params);
    zone_name = WithoutDot(zone.TenantZone(ctx.slug()));
    params["chart_version"] = StringParam(params, "chart_version", "4.11.3");
    params["chart_repository"] =
        StringParam(params, "chart_repository", "https://kubernetes.github.io/ingress-nginx");
    template_name = StringParam(params, "template", "ingress-controller.yaml");
    values = TenantValues(ctx, zone, params);
  }

  static void Check(const nlohmann::json& params) {
    ZoneParams::Parse(params);
    StringParam(params, "chart_version", "");
    auto repo = StringParam(params, "chart_repository", "https://x");
    if (repo.rfind("https://", 0) != 0 && repo.rfind("oci://", 0) != 0)
      throw InvalidArgument("param chart_repository must be an https:// or oci:// URL");
    auto name = StringParam(params, "template", "x");
    if (name.find('/') != std::string::npos || name.find("..") != std::string::npos)
      throw InvalidArgument("param template must be a plain file name");
  }
};

std::string ServerConfig(const LocalNginx& nginx, const std::string& slug, const std::string& zone) {
  const auto& o = nginx.options();
  return "# Written by matih-provisioner (step deploy-ingress-controller) for tenant " + slug +
         "; do not edit.\n"
         "# Step create-tenant-ingress adds the TLS listener in " +
         slug +
         ".d/tls.conf.\n"
         "server {\n"
         "    listen " +
         o.listen_address + ":" + std::to_string(o.http_port) +
         ";\n"
         "    server_name " +
         zone + " *." + zone +
         ";\n"
         "    include " +
         nginx.IncludeDir(slug) +
         "/*.conf;\n"
         "    default_type application/json;\n"
         "    location = /healthz {\n"
         "        return 200 '{\"tenant\":\"" +
         slug + "\",\"zone\":\"" + zone +
         "\",\"status\":\"ok\"}\\n';\n"
         "    }\n"
         "    location / {\n"
         "        return 404 '{\"tenant\":\"" +
         slug +
         "\",\"error\":\"no such service\"}\\n';\n"
         "    }\n"
         "}\n";
}

// "" when nginx answers the tenant's /healthz on HTTP; otherwise what it did.
std::string CheckServing(const LocalNginx& nginx, const std::string& slug, const std::string& zone) {
  const auto& o = nginx.options();
  const std::string host = "api." + zone;
  auto r = ProbeGet("http://" + host + ":" + std::to_string(o.http_port) + "/healthz", host, o.http_port,
                    o.listen_address, "", std::chrono::seconds(2));
  if (!r.connected)
    throw TransientError("nginx at " + o.listen_address + ":" + std::to_string(o.http_port) +
                         " is unreachable: " + r.error);
  if (r.status != 200 || r.body.find("\"tenant\":\"" + slug + "\"") == std::string::npos)
    return "nginx answers http://" + host + "/healthz with HTTP " + std::to_string(r.status) +
           " without naming the tenant";
  return "";
}

}  // namespace

void IngressControllerStep::validate_params(std::string_view params_json) {
  ControllerCall::Check(ParseParamsObject(params_json));
}

Observation IngressControllerStep::observe(Context& ctx) {
  const ControllerCall call(ctx);
  std::vector<std::pair<std::string, Observation>> parts;
  parts.emplace_back("objects",
                     DeliveryFromSettings(ctx)->Observe(RenderObjects(ctx, call.template_name, call.values)));
  if (auto options = LocalNginx::FromSettings(ctx)) {
    LocalNginx nginx(*options);
    const std::string slug = ctx.slug();
    auto now = LocalNginx::Read(nginx.ServerFile(slug));
    Observation local = Observation::InSync();
    if (!now) {
      local = Observation::Absent();
    } else if (*now != ServerConfig(nginx, slug, call.zone_name)) {
      local = Observation::Drifted(nginx.ServerFile(slug) + " was changed");
    } else if (auto problem = CheckServing(nginx, slug, call.zone_name); !problem.empty()) {
      local = Observation::Drifted(problem);
    }
    parts.emplace_back("nginx", local);
  }
  return Combine(parts);
}

void IngressControllerStep::apply(Context& ctx) {
  const ControllerCall call(ctx);
  DeliveryFromSettings(ctx)->Apply(RenderObjects(ctx, call.template_name, call.values));
  ctx.set_output("ingress_class", call.values["ingress_class"].get<std::string>());
  ctx.set_output("namespace", call.values["namespace"].get<std::string>());
  auto options = LocalNginx::FromSettings(ctx);
  if (!options) return;
  LocalNginx nginx(*options);
  const std::string slug = ctx.slug();
  bool reloaded = nginx.Change({{nginx.ServerFile(slug), ServerConfig(nginx, slug, call.zone_name)}});
  std::string problem = CheckServing(nginx, slug, call.zone_name);
  if (!problem.empty() && !reloaded) {  // in sync on disk but not served: nginx missed a reload
    nginx.Change({}, {}, true);
    reloaded = true;
  }
  for (int i = 0; i < 30 && !problem.empty(); ++i) {  // a reload takes effect asynchronously
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    problem = CheckServing(nginx, slug, call.zone_name);
  }
  if (!problem.empty()) throw TransientError("step " + ctx.step_name() + ": after the reload, " + problem);
  if (reloaded) ctx.info("nginx serves tenant " + slug + " on " + call.zone_name);
  ctx.set_output("http_url",
                 "http://api." + call.zone_name + ":" + std::to_string(options->http_port) + "/healthz");
}

void IngressControllerStep::remove(Context& ctx) {
  const ControllerCall call(ctx);
  DeliveryFromSettings(ctx)->Remove(RenderObjects(ctx, call.template_name, call.values));
  if (auto options = LocalNginx::FromSettings(ctx)) {
    LocalNginx nginx(*options);
    nginx.Change({{nginx.ServerFile(ctx.slug()), std::nullopt}});
  }
}

}  // namespace matih::plugins::network
