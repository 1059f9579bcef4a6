#include "network/activation_step.h"

#include <chrono>
#include <ctime>

#include "common/settings.h"
#include "common/tenant_spec.h"
#include "network/dns_probe.h"
#include "network/https_probe.h"
#include "network/network_objects.h"
#include "network/zone_diff.h"
#include "network/zone_names.h"

namespace matih::plugins::network {
namespace {

struct ActivationParams {
  ZoneParams zone;
  std::vector<std::string> names;  // "@", "api", "*"
  std::string probe_host = "api";
  std::vector<std::string> endpoint_keys = {"endpoint", "url"};
  std::string endpoints_step = "register-service-endpoints";

  static ActivationParams Parse(std::string_view text) {
    auto params = ParseParamsObject(text);
    ActivationParams p;
    p.zone = ZoneParams::Parse(params);
    p.names = {"@", "api", "bi", "*"};
    if (params.contains("names")) {
      if (!params["names"].is_array() || params["names"].empty())
        throw InvalidArgument("param names must be a non-empty list of @, * or DNS labels");
      p.names.clear();
      for (const auto& n : params["names"]) {
        if (!n.is_string()) throw InvalidArgument("param names must list strings");
        const auto name = n.get<std::string>();
        if (name != "@" && name != "*" &&
            (AbsoluteName(name, "param names: name") != name + "." || name.find('.') != std::string::npos))
          throw InvalidArgument("param names: '" + name + "' is not @, * or one lower-case DNS label");
        p.names.push_back(name);
      }
    }
    p.probe_host = StringParam(params, "probe_host", "api");
    AbsoluteName(p.probe_host, "param probe_host");
    if (params.contains("endpoint_keys")) {
      if (!params["endpoint_keys"].is_array() || params["endpoint_keys"].empty())
        throw InvalidArgument("param endpoint_keys must be a non-empty list of output names");
      p.endpoint_keys.clear();
      for (const auto& k : params["endpoint_keys"]) {
        if (!k.is_string() || k.get<std::string>().empty())
          throw InvalidArgument("param endpoint_keys must list output names");
        p.endpoint_keys.push_back(k.get<std::string>());
      }
    }
    p.endpoints_step = StringParam(params, "endpoints_step", p.endpoints_step);
    return p;
  }
};

struct CheckResult {
  std::string failed;  // "" when every check passed: "check dns: ..."
  std::vector<std::string> passed;
};

bool LooksLikeUrl(const std::string& s) {
  auto scheme = s.find("://");
  return scheme != std::string::npos && scheme > 0 && s.size() > scheme + 3;
}

CheckResult RunChecks(const Context& ctx, const ActivationParams& p) {
  CheckResult result;
  const std::string zone = p.zone.TenantZone(ctx.slug());  // absolute
  const std::string expected = ctx.required_setting("network.ingress_address");
  DnsProbe dns(ctx.required_setting("network.dns_server"), std::chrono::seconds(1));

  // dns
  const std::string type = expected.find(':') != std::string::npos ? "AAAA" : "A";
  for (const auto& n : p.names) {
    const std::string name = ZoneParams::RecordName(n == "*" ? "matih-activation-probe" : n, zone);
    std::vector<std::string> got;
    try {
      got = dns.Query(name, type);
    } catch (const TransientError& e) {
      result.failed = std::string("check dns: ") + e.what();
      return result;
    }
    if (got != std::vector<std::string>{expected}) {
      result.failed =
          "check dns: " + name + " resolves to [" + Join(got) + "] at " + dns.server() + ", want " + expected;
      return result;
    }
  }
  result.passed.push_back("dns");

  // https
  const std::string host = p.probe_host + "." + WithoutDot(zone);
  const auto https_port =
      SettingOr(ctx, "network.https_port", SettingOr(ctx, "network.nginx_https_port", "443"));
  const long long port = ParseCount("network.https_port", https_port);
  const std::string url = "https://" + host + ":" + std::to_string(port) + "/healthz";
  const auto addresses = dns.Query(host + ".", type);
  const std::string address = addresses.empty() ? "" : addresses.front();
  if (address.empty()) {
    result.failed = "check https: " + host + " does not resolve at " + dns.server();
    return result;
  }
  auto r = ProbeGet(url, host, static_cast<int>(port), address, SettingOr(ctx, "network.ca_cert_file", ""),
                    std::chrono::seconds(3));
  if (!r.error.empty()) {
    result.failed = "check https: " + url + " (at " + address + "): " + r.error;
    return result;
  }
  if (r.status != 200 || r.body.find("\"tenant\":\"" + ctx.slug() + "\"") == std::string::npos) {
    result.failed =
        "check https: " + url + " answers HTTP " + std::to_string(r.status) + " without naming the tenant";
    return result;
  }
  result.passed.push_back("https");

  // endpoint
  nlohmann::json registered = nlohmann::json::object();
  if (auto text = ctx.output(p.endpoints_step, "endpoints")) {
    registered = nlohmann::json::parse(*text, nullptr, false);
    if (!registered.is_object()) {
      result.failed =
          "check endpoint: output endpoints of step " + p.endpoints_step + " is not a JSON object";
      return result;
    }
  }
  for (const auto& service : TenantSpec::Parse(ctx.spec_json()).services()) {
    std::string endpoint;
    if (registered.contains(service) && registered[service].is_string()) endpoint = registered[service];
    for (const auto& key : p.endpoint_keys) {
      if (!endpoint.empty()) break;
      if (auto v = ctx.output(service, key)) endpoint = *v;
    }
    if (endpoint.empty()) {
      result.failed = "check endpoint: service " + service +
                      " has no registered endpoint (no entry in output endpoints of step " +
                      p.endpoints_step + ", no output " + Join(p.endpoint_keys, " or ") + " of step " +
                      service + ")";
      return result;
    }
    if (!LooksLikeUrl(endpoint)) {
      result.failed =
          "check endpoint: service " + service + " registered '" + endpoint + "', which is not a URL";
      return result;
    }
    result.passed.push_back("endpoint " + service);
  }
  return result;
}

std::string NowUtc() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

void ActivationStep::validate_params(std::string_view params_json) { ActivationParams::Parse(params_json); }

Observation ActivationStep::observe(Context& ctx) {
  const auto p = ActivationParams::Parse(ctx.params_json());
  if (!ctx.output(ctx.step_name(), "activated_at")) return Observation::Absent();
  auto result = RunChecks(ctx, p);
  return result.failed.empty() ? Observation::InSync() : Observation::Drifted(result.failed);
}

void ActivationStep::apply(Context& ctx) {
  const auto p = ActivationParams::Parse(ctx.params_json());
  auto result = RunChecks(ctx, p);
  if (!result.failed.empty())
    throw TransientError("step " + ctx.step_name() + ": tenant " + ctx.slug() +
                         " is not reachable yet: " + result.failed);
  ctx.set_output("checks", Join(result.passed, ","));
  auto first = ctx.output(ctx.step_name(), "activated_at");
  ctx.set_output("activated_at", first ? *first : NowUtc());
  ctx.info("tenant " + ctx.slug() + " passed the activation checks: " + Join(result.passed, ", "));
}

void ActivationStep::remove(Context&) {}

}  // namespace matih::plugins::network
