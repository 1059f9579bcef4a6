#include "observability/monitoring_targets_step.h"

#include <nlohmann/json.hpp>
#include <regex>

#include "common/settings.h"
#include "common/tenant_spec.h"
#include "kube_delivery/delivery_from_settings.h"
#include "observability/atomic_file.h"
#include "observability/prometheus_api.h"
#include "observability/yaml_text.h"

namespace matih::plugins::observability {
namespace {

struct TargetParams {
  long long port = 9090;
  std::string path = "/metrics", interval = "30s", scheme = "http";
};

TargetParams ParseParams(std::string_view text) {
  auto p = nlohmann::json::parse(text.empty() ? std::string_view("{}") : text, nullptr, false);
  if (!p.is_object()) throw InvalidArgument("params must be an object");
  TargetParams out;
  for (const auto& [key, value] : p.items()) {
    if (key == "port") {
      if (!value.is_number_integer() || value.get<long long>() < 1 || value.get<long long>() > 65535)
        throw InvalidArgument("param port must be a TCP port (1-65535)");
      out.port = value.get<long long>();
    } else if (key == "path") {
      if (!value.is_string() || !std::regex_match(value.get<std::string>(), std::regex("/[A-Za-z0-9._~/-]*")))
        throw InvalidArgument("param path must be an absolute URL path such as /metrics");
      out.path = value.get<std::string>();
    } else if (key == "interval") {
      if (!value.is_string() || !std::regex_match(value.get<std::string>(), std::regex("[1-9][0-9]*(s|m|h)")))
        throw InvalidArgument("param interval must be a duration such as 30s or 1m");
      out.interval = value.get<std::string>();
    } else if (key == "scheme") {
      if (value != "http" && value != "https") throw InvalidArgument("param scheme must be http or https");
      out.scheme = value.get<std::string>();
    } else {
      throw InvalidArgument("unknown param '" + key + "'");
    }
  }
  return out;
}

struct Desired {
  std::string file;       // the target file's path
  nlohmann::json groups;  // its content
  std::set<std::string> addresses;
  ObjectBatch objects;  // the ServiceMonitor
};

Desired DesiredFor(const Context& ctx) {
  const TargetParams params = ParseParams(ctx.params_json());
  const std::string dir = ctx.required_setting("observability.targets_dir");
  RequireDirectory(dir, "observability.targets_dir");
  const std::string slug = ctx.slug(), tier = ctx.tier(), ns = "tenant-" + slug;
  auto services = TenantSpec::Parse(ctx.spec_json()).services();
  std::sort(services.begin(), services.end());
  services.erase(std::unique(services.begin(), services.end()), services.end());
  Desired d;
  d.file = dir + "/tenant-" + slug + ".json";
  d.groups = nlohmann::json::array();
  for (const auto& service : services) {
    const std::string address = service + "." + ns + ".svc:" + std::to_string(params.port);
    d.addresses.insert(address);
    d.groups.push_back({{"targets", {address}},
                        {"labels",
                         {{"tenant", slug},
                          {"tenant_id", ctx.tenant_id()},
                          {"tier", tier},
                          {"service", service},
                          {"namespace", ns},
                          {"__metrics_path__", params.path},
                          {"__scheme__", params.scheme}}}});
  }
  const nlohmann::json monitor = {
      {"apiVersion", "monitoring.coreos.com/v1"},
      {"kind", "ServiceMonitor"},
      {"metadata",
       {{"name", "tenant-services"},
        {"namespace", ns},
        {"labels",
         {{"matih.ai/tenant-slug", slug},
          {"matih.ai/tier", tier},
          {"app.kubernetes.io/managed-by", SettingOr(ctx, "kubernetes.managed_by", "matih-provisioner")}}}}},
      {"spec",
       {{"namespaceSelector", {{"matchNames", {ns}}}},
        {"selector",
         {{"matchExpressions",
           {{{"key", "app.kubernetes.io/name"}, {"operator", "In"}, {"values", services}}}}}},
        {"endpoints",
         {{{"targetPort", params.port},
           {"path", params.path},
           {"scheme", params.scheme},
           {"interval", params.interval},
           {"relabelings",
            {{{"action", "replace"}, {"targetLabel", "tenant"}, {"replacement", slug}},
             {{"action", "replace"}, {"targetLabel", "tier"}, {"replacement", tier}}}}}}}}}};
  d.objects = MakeBatch(slug, ctx.step_name(), ctx.run_id(), DeliveryMode::kObject, YamlText(monitor));
  return d;
}

std::chrono::milliseconds VerifyTimeout(const Context& ctx) {
  return std::chrono::milliseconds(ParseCount("observability.verify_timeout_ms",
                                              SettingOr(ctx, "observability.verify_timeout_ms", "15000")));
}

// Waits until Prometheus's active targets of the tenant are exactly `want`.
void AwaitTargets(const Context& ctx, const std::set<std::string>& want, const char* what) {
  PrometheusApi prometheus(ctx.required_setting("observability.prometheus_url"));
  std::set<std::string> have;
  const bool done = WaitUntil(VerifyTimeout(ctx), [&] {
    have = prometheus.ActiveTargets("tenant", ctx.slug());
    return have == want;
  });
  if (!done)
    throw TransientError("configure-monitoring: Prometheus " + prometheus.url() + " still lists " +
                         std::to_string(have.size()) + " target(s) of tenant " + ctx.slug() + " (want " +
                         std::to_string(want.size()) + ") " + what);
}

}  // namespace

void MonitoringTargetsStep::validate_params(std::string_view params_json) { ParseParams(params_json); }

Observation MonitoringTargetsStep::observe(Context& ctx) {
  const Desired want = DesiredFor(ctx);
  const auto text = ReadFileIfExists(want.file);
  const Observation cluster = DeliveryFromSettings(ctx)->Observe(want.objects);
  if (!text && cluster.state == Observation::State::kAbsent) return Observation::Absent();
  std::string diff;
  auto note = [&diff](const std::string& s) { diff += (diff.empty() ? "" : "; ") + s; };
  if (!text) {
    note("target file " + want.file + " missing");
  } else {
    const auto have = nlohmann::json::parse(*text, nullptr, false);
    if (have != want.groups) note("target file " + want.file + " differs");
  }
  if (cluster.state == Observation::State::kAbsent) note("ServiceMonitor tenant-services missing");
  if (cluster.state == Observation::State::kDrifted) note("ServiceMonitor: " + cluster.diff);
  return diff.empty() ? Observation::InSync() : Observation::Drifted(diff);
}

void MonitoringTargetsStep::apply(Context& ctx) {
  const Desired want = DesiredFor(ctx);
  const auto text = ReadFileIfExists(want.file);
  if (!text || nlohmann::json::parse(*text, nullptr, false) != want.groups) {
    StagedFile staged(want.file, want.groups.dump(2) + "\n");
    staged.Install();
  }
  DeliveryFromSettings(ctx)->Apply(want.objects);
  AwaitTargets(ctx, want.addresses, "after the target file was written");
  std::string targets;
  for (const auto& a : want.addresses) targets += (targets.empty() ? "" : ",") + a;
  ctx.set_output("targets_file", want.file);
  ctx.set_output("targets", targets);
}

void MonitoringTargetsStep::remove(Context& ctx) {
  const Desired want = DesiredFor(ctx);
  DeleteFileIfExists(want.file);
  DeliveryFromSettings(ctx)->Remove(want.objects);
  AwaitTargets(ctx, {}, "after the target file was deleted");
}

}  // namespace matih::plugins::observability
