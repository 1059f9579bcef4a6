#include "network/dns_zone_step.h"

#include <arpa/inet.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>

#include "common/settings.h"
#include "network/azure_dns_zone.h"
#include "network/dns_probe.h"
#include "network/powerdns_client.h"
#include "network/zone_diff.h"
#include "network/zone_names.h"

namespace matih::plugins::network {
namespace {

bool OnAzure(const Context& ctx) {
  const std::string backend = SettingOr(ctx, "network.dns_backend", "powerdns");
  if (backend != "powerdns" && backend != "azure")
    throw InvalidArgument("setting network.dns_backend '" + backend + "' is not supported (powerdns, azure)");
  return backend == "azure";
}

PowerDnsClient Client(const Context& ctx) {
  auto key = ctx.setting("network.powerdns_api_key");
  if (!key || key->empty()) throw PermanentError("missing runner setting targets.network.powerdns_api_key");
  return PowerDnsClient(ctx.required_setting("network.powerdns_api_url"), *key,
                        SettingOr(ctx, "network.powerdns_server_id", "localhost"),
                        std::chrono::milliseconds(ParseCount(
                            "network.http_timeout_ms", SettingOr(ctx, "network.http_timeout_ms", "10000"))));
}

RRSetMap ParentDelegation(const RRSetMap& parent, const std::string& zone) {
  RRSetMap out;
  auto it = parent.find({zone, "NS"});
  if (it != parent.end()) out.insert(*it);
  return out;
}

RRSetMap RequireParent(const PowerDnsClient& client, const TenantZone& call) {
  auto parent = client.GetZone(call.params.parent_zone);
  if (!parent)
    throw PermanentError("parent zone " + call.params.parent_zone +
                         " does not exist on the PowerDNS server at " + client.url() +
                         "; the platform creates it (scripts/stack does locally)");
  return *parent;
}

// Asks the DNS server for every record this step owns; "" when it serves all of them.
// `nameservers`: the zone's NS set (the params' on PowerDNS, Azure's own on Azure), whose first
// name is the SOA's primary on PowerDNS (`soa_primary`); Azure's SOA names its own primary.
std::string CheckServed(const DnsProbe& dns, const TenantZone& call,
                        const std::vector<std::string>& nameservers, bool soa_primary) {
  for (const auto& r : call.params.records) {
    const std::string name = ZoneParams::RecordName(r == "*" ? "matih-wildcard-probe" : r, call.zone);
    auto got = dns.Query(name, call.address_type);
    if (got != std::vector<std::string>{call.address})
      return call.address_type + " " + name + " answers [" + Join(got) + "], want " + call.address;
  }
  auto soa = dns.Query(call.zone, "SOA");
  if (soa.size() != 1 || Fields(soa.front()).empty() ||
      (soa_primary && Fields(soa.front())[0] != call.params.nameservers.front()))
    return "SOA " + call.zone + " answers [" + Join(soa) + "]";
  auto ns = dns.Query(call.zone, "NS");
  std::sort(ns.begin(), ns.end());
  if (ns != nameservers) return "NS " + call.zone + " answers [" + Join(ns) + "]";
  std::vector<std::string> delegated;
  for (const auto& rec : dns.Transfer(call.params.parent_zone))
    if (rec.name == call.zone && rec.type == "NS") delegated.push_back(rec.data);
  std::sort(delegated.begin(), delegated.end());
  if (delegated != nameservers)
    return "the parent zone " + call.params.parent_zone + " delegates " + call.zone + " to [" +
           Join(delegated) + "], want " + Join(nameservers);
  return "";
}

// Skipped only when setting network.dns_verify is false (a backend whose name servers this host
// cannot query, e.g. Azure from a test), and then said in the log.
void VerifyServed(const Context& ctx, const TenantZone& call, const std::vector<std::string>& nameservers,
                  bool soa_primary) {
  if (!ParseBool("network.dns_verify", SettingOr(ctx, "network.dns_verify", "true"))) {
    ctx.warn("zone " + call.zone + " was not checked by DNS queries (setting network.dns_verify is false)");
    return;
  }
  const auto timeout = std::chrono::milliseconds(
      ParseCount("network.dns_timeout_ms", SettingOr(ctx, "network.dns_timeout_ms", "3000")));
  DnsProbe dns(ctx.required_setting("network.dns_server"),
               std::min(timeout, std::chrono::milliseconds(1000)));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string problem;
  while (true) {
    problem = CheckServed(dns, call, nameservers, soa_primary);
    if (problem.empty()) return;
    if (std::chrono::steady_clock::now() >= deadline) break;
    ctx.check_cancelled();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw TransientError("step " + ctx.step_name() + ": DNS server " + dns.server() + " does not serve zone " +
                       call.zone + " as written: " + problem);
}

}  // namespace

void DnsZoneStep::validate_params(std::string_view params_json) {
  ZoneParams::Parse(ParseParamsObject(params_json));
}

Observation DnsZoneStep::observe(Context& ctx) {
  const TenantZone call(ctx);
  if (OnAzure(ctx)) return AzureObserveZone(ctx, call);
  auto client = Client(ctx);
  auto parent = RequireParent(client, call);
  auto zone = client.GetZone(call.zone);
  auto delegation = Diff({call.delegation}, ParentDelegation(parent, call.zone), false);
  if (!zone && !delegation.empty()) return Observation::Absent();
  std::vector<std::string> lines;
  if (!zone) lines.push_back("zone " + call.zone + " is missing");
  if (zone) {
    auto d = Diff(call.desired, *zone, true);
    lines.insert(lines.end(), d.lines.begin(), d.lines.end());
  }
  for (const auto& l : delegation.lines) lines.push_back("parent " + call.params.parent_zone + ": " + l);
  if (lines.empty()) return Observation::InSync();
  if (lines.size() > 4) lines.resize(4), lines.push_back("...");
  return Observation::Drifted(Join(lines, "; "));
}

void DnsZoneStep::apply(Context& ctx) {
  const TenantZone call(ctx);
  if (OnAzure(ctx)) {
    const auto nameservers = AzureApplyZone(ctx, call);
    VerifyServed(ctx, call, nameservers, false);
    ctx.set_output("zone", WithoutDot(call.zone));
    ctx.set_output("nameservers", Join(nameservers, ","));
    ctx.set_output("ingress_address", call.address);
    return;
  }
  auto client = Client(ctx);
  auto parent = RequireParent(client, call);
  auto zone = client.GetZone(call.zone);
  if (!zone) {
    ctx.info("creating DNS zone " + call.zone);
    client.CreateZone(call.zone, call.desired);
  } else {
    auto d = Diff(call.desired, *zone, true);
    if (!d.empty()) {
      ctx.info("repairing DNS zone " + call.zone + ": " + Join(d.lines, "; "));
      client.PatchZone(call.zone, d.replace, d.remove);
    }
  }
  auto delegation = Diff({call.delegation}, ParentDelegation(parent, call.zone), false);
  if (!delegation.empty()) {
    ctx.info("delegating " + call.zone + " from " + call.params.parent_zone + " to " +
             Join(call.delegation.contents));
    client.PatchZone(call.params.parent_zone, delegation.replace, {});
  }
  VerifyServed(ctx, call, call.delegation.contents, true);
  ctx.set_output("zone", WithoutDot(call.zone));
  ctx.set_output("nameservers", Join(call.delegation.contents, ","));
  ctx.set_output("ingress_address", call.address);
}

void DnsZoneStep::remove(Context& ctx) {
  const TenantZone call(ctx);
  if (OnAzure(ctx)) return AzureRemoveZone(ctx, call);
  auto client = Client(ctx);
  auto parent = client.GetZone(call.params.parent_zone);
  if (parent && parent->count({call.zone, "NS"})) {
    ctx.info("removing the delegation of " + call.zone + " from " + call.params.parent_zone);
    client.PatchZone(call.params.parent_zone, {}, {{call.zone, "NS"}});
  }
  if (client.GetZone(call.zone)) {
    ctx.info("deleting DNS zone " + call.zone);
    client.DeleteZone(call.zone);
  }
}

}  // namespace matih::plugins::network
