#include "network/tenant_ingress_step.h"

#include <filesystem>
#include <thread>

#include "common/settings.h"
#include "kube_delivery/delivery_from_settings.h"
#include "network/dns_probe.h"
#include "network/https_probe.h"
#include "network/local_ca.h"
#include "network/local_nginx.h"
#include "network/network_objects.h"

namespace matih::plugins::network {
namespace {

struct IngressCall {
  nlohmann::json params;
  ZoneParams zone;
  std::string zone_name;  // no final dot
  std::vector<std::string> dns_names;
  int validity_days = 90, renew_days = 30;
  std::string probe_host;
  nlohmann::json values;

  explicit IngressCall(const Context& ctx) {
    params = ParseParamsObject(ctx.params_json());
    Check(params);
    zone = ZoneParams::Parse(params);
    zone_name = WithoutDot(zone.TenantZone(ctx.slug()));
    dns_names = {"*." + zone_name, zone_name};
    validity_days = IntParam(params, "validity_days", 90, 2, 825);
    renew_days = IntParam(params, "renew_days", 30, 1, 824);
    probe_host = StringParam(params, "probe_host", "api") + "." + zone_name;
    params["issuer"] = StringParam(params, "issuer", "letsencrypt-dns01");
    params["issuer_kind"] = StringParam(params, "issuer_kind", "ClusterIssuer");
    values = TenantValues(ctx, zone, params);
    values["tls_secret"] = "tenant-" + ctx.slug() + "-tls";
    values["duration"] = std::to_string(validity_days * 24) + "h";
    values["renew_before"] = std::to_string(renew_days * 24) + "h";
    nlohmann::json hosts = nlohmann::json::array();
    for (const auto& h : HostsOf(params)) {
      auto entry = h;
      entry["host"] = h["name"].get<std::string>() + "." + zone_name;
      hosts.push_back(entry);
    }
    values["hosts"] = hosts;
  }

  static nlohmann::json HostsOf(const nlohmann::json& params) {
    if (!params.contains("hosts"))
      return nlohmann::json::array({{{"name", "api"}, {"service", "api-gateway"}, {"port", 80}},
                                    {{"name", "bi"}, {"service", "bi-service"}, {"port", 80}}});
    return params["hosts"];
  }

  static void Check(const nlohmann::json& params) {
    ZoneParams::Parse(params);
    const int validity = IntParam(params, "validity_days", 90, 2, 825);
    const int renew = IntParam(params, "renew_days", 30, 1, 824);
    if (renew >= validity)
      throw InvalidArgument("param renew_days (" + std::to_string(renew) + ") must be below validity_days (" +
                            std::to_string(validity) + ")");
    AbsoluteName(StringParam(params, "probe_host", "api"), "param probe_host");
    for (const char* key : {"issuer", "issuer_kind"}) StringParam(params, key, "x");
    const auto hosts = HostsOf(params);
    if (!hosts.is_array() || hosts.empty()) throw InvalidArgument("param hosts must be a non-empty list");
    for (const auto& h : hosts) {
      if (!h.is_object() || !h.contains("name") || !h["name"].is_string() || !h.contains("service") ||
          !h["service"].is_string() || !h.contains("port") || !h["port"].is_number_integer())
        throw InvalidArgument("param hosts: each host needs name, service and port");
      const auto name = h["name"].get<std::string>();
      if (AbsoluteName(name, "param hosts: name") != name + "." || name.find('.') != std::string::npos)
        throw InvalidArgument("param hosts: name '" + name + "' must be one lower-case DNS label");
      AbsoluteName(h["service"].get<std::string>(), "param hosts: service");
      if (h["port"].get<long long>() < 1 || h["port"].get<long long>() > 65535)
        throw InvalidArgument("param hosts: port of " + name + " is not a TCP port");
    }
  }
};

// The local part: the stack's nginx and CA, or nullopt when not configured.
struct Local {
  LocalNginx nginx;
  LocalCa ca;
  LeafFiles files;
  std::string dns_server;

  // `for_remove`: only the files' places are needed (no CA, no DNS server), so a tenant can be
  // cleaned up even when those settings are gone.
  static std::optional<Local> From(const Context& ctx, bool for_remove = false) {
    auto options = LocalNginx::FromSettings(ctx);
    if (!options) return std::nullopt;
    const std::string dir =
        std::filesystem::absolute(ctx.required_setting("network.certs_dir")).string() + "/" + ctx.slug();
    auto setting = [&](const char* key) {
      return for_remove ? SettingOr(ctx, key, "") : ctx.required_setting(key);
    };
    return Local{LocalNginx(*options),
                 LocalCa(setting("network.ca_cert_file"), setting("network.ca_key_file")),
                 {dir + "/tls.crt", dir + "/tls.key"},
                 setting("network.dns_server")};
  }

  std::string TlsConfig(const std::string& slug) const {
    const auto& o = nginx.options();
    return "# Written by matih-provisioner (step create-tenant-ingress) for tenant " + slug +
           "; do not edit.\n"
           "listen " +
           o.listen_address + ":" + std::to_string(o.https_port) +
           " ssl;\n"
           "ssl_certificate " +
           files.cert_file +
           ";\n"
           "ssl_certificate_key " +
           files.key_file + ";\n";
  }

  // "" when https://<probe_host> answers through the DNS server's address with the certificate
  // of `expected_pem`, verified against the CA; otherwise what is wrong. Unreachable: transient.
  std::string CheckServed(const IngressCall& call, const std::string& slug,
                          const std::string& expected_pem) const {
    const auto& o = nginx.options();
    DnsProbe dns(dns_server, std::chrono::seconds(1));
    auto addresses = dns.Query(call.probe_host + ".", "A");
    if (addresses.empty()) addresses = dns.Query(call.probe_host + ".", "AAAA");
    if (addresses.empty())
      throw TransientError(call.probe_host + " does not resolve at DNS server " + dns_server +
                           " (step create-dns-zone writes it)");
    const std::string url = "https://" + call.probe_host + ":" + std::to_string(o.https_port) + "/healthz";
    auto r = ProbeGet(url, call.probe_host, o.https_port, addresses.front(), ca.ca_cert_file(),
                      std::chrono::seconds(2));
    if (!r.connected)
      throw TransientError("nginx at " + url + " (" + addresses.front() + ") is unreachable: " + r.error);
    if (r.tls_failed || !r.error.empty()) return url + " fails the TLS check against the CA: " + r.error;
    if (CompactPem(r.peer_cert_pem) != CompactPem(expected_pem))
      return "nginx serves another certificate than " + files.cert_file + " for " + call.probe_host;
    if (r.status != 200 || r.body.find("\"tenant\":\"" + slug + "\"") == std::string::npos)
      return url + " answers HTTP " + std::to_string(r.status) + " without naming the tenant";
    return "";
  }
};

// The outputs of apply, and of an observe that finds everything in sync; `local` (with the state of
// its certificate) only when the local part is configured. Names and public values, never the key.
void SetOutputs(Context& ctx, const IngressCall& call, const Local* local, const LeafState& state) {
  std::string hosts;
  for (const auto& h : call.values["hosts"])
    hosts += (hosts.empty() ? "" : ",") + h["host"].get<std::string>();
  ctx.set_output("hosts", hosts);
  ctx.set_output("tls_secret", call.values["tls_secret"].get<std::string>());
  if (!local) return;
  ctx.set_output("url",
                 "https://" + call.probe_host + ":" + std::to_string(local->nginx.options().https_port));
  ctx.set_output("certificate_not_after", state.not_after);
  ctx.set_output("certificate_serial", state.serial);
}

}  // namespace

void TenantIngressStep::validate_params(std::string_view params_json) {
  IngressCall::Check(ParseParamsObject(params_json));
}

Observation TenantIngressStep::observe(Context& ctx) {
  const IngressCall call(ctx);
  std::vector<std::pair<std::string, Observation>> parts;
  parts.emplace_back(
      "objects", DeliveryFromSettings(ctx)->Observe(RenderObjects(ctx, "tenant-ingress.yaml", call.values)));
  const auto local = Local::From(ctx);
  LeafState state;
  if (local) {
    const std::string slug = ctx.slug();
    state = local->ca.Inspect(local->files, call.dns_names, call.renew_days);
    auto tls = LocalNginx::Read(local->nginx.TlsFile(slug));
    Observation o = Observation::InSync();
    if (!state.exists && !tls) {
      o = Observation::Absent();
    } else if (!state.problem.empty()) {
      o = Observation::Drifted(state.problem);
    } else if (tls != local->TlsConfig(slug)) {
      o = Observation::Drifted(local->nginx.TlsFile(slug) + (tls ? " was changed" : " is missing"));
    } else if (!LocalNginx::Read(local->nginx.ServerFile(slug))) {
      o = Observation::Drifted("the tenant's nginx server (step deploy-ingress-controller) is missing");
    } else if (auto problem = local->CheckServed(call, slug, state.cert_pem); !problem.empty()) {
      o = Observation::Drifted(problem);
    }
    parts.emplace_back("tls", o);
  }
  Observation found = Combine(parts);
  // Adoptable (plugin.cc): what an apply made and never recorded is found here with its outputs.
  if (found.state == Observation::State::kInSync) SetOutputs(ctx, call, local ? &*local : nullptr, state);
  return found;
}

void TenantIngressStep::apply(Context& ctx) {
  const IngressCall call(ctx);
  DeliveryFromSettings(ctx)->Apply(RenderObjects(ctx, "tenant-ingress.yaml", call.values));
  auto local = Local::From(ctx);
  if (!local) {
    SetOutputs(ctx, call, nullptr, LeafState{});
    return;
  }
  const std::string slug = ctx.slug();
  if (!LocalNginx::Read(local->nginx.ServerFile(slug)))
    throw PermanentError("step " + ctx.step_name() + ": the tenant's nginx server " +
                         local->nginx.ServerFile(slug) +
                         " is missing; step deploy-ingress-controller writes it first");
  auto state = local->ca.Inspect(local->files, call.dns_names, call.renew_days);
  bool renewed = false;
  if (!state.problem.empty()) {
    ctx.info("issuing the certificate of " + call.zone_name + " from the local CA (" + state.problem + ")");
    local->ca.Issue(local->files, call.dns_names, call.validity_days);
    state = local->ca.Inspect(local->files, call.dns_names, call.renew_days);
    if (!state.problem.empty())
      throw PermanentError("the certificate just issued is not valid: " + state.problem);
    renewed = true;
  }
  bool reloaded = local->nginx.Change({{local->nginx.TlsFile(slug), local->TlsConfig(slug)}}, {}, renewed);
  std::string problem = local->CheckServed(call, slug, state.cert_pem);
  if (!problem.empty() && !reloaded) {  // files in sync but nginx still serves an older state
    local->nginx.Change({}, {}, true);
    reloaded = true;
  }
  for (int i = 0; i < 30 && !problem.empty(); ++i) {  // a reload takes effect asynchronously
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    problem = local->CheckServed(call, slug, state.cert_pem);
  }
  if (!problem.empty()) throw TransientError("step " + ctx.step_name() + ": " + problem);
  SetOutputs(ctx, call, &*local, state);
}

void TenantIngressStep::remove(Context& ctx) {
  const IngressCall call(ctx);
  DeliveryFromSettings(ctx)->Remove(RenderObjects(ctx, "tenant-ingress.yaml", call.values));
  auto local = Local::From(ctx, true);
  if (!local) return;
  const std::string slug = ctx.slug();
  local->nginx.Change({{local->nginx.TlsFile(slug), std::nullopt}}, {local->nginx.IncludeDir(slug)});
  std::error_code ec;
  std::filesystem::remove(local->files.key_file, ec);
  std::filesystem::remove(local->files.cert_file, ec);
  std::filesystem::remove(std::filesystem::path(local->files.cert_file).parent_path(), ec);
}

}  // namespace matih::plugins::network
