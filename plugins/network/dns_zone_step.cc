#include "network/dns_zone_step.h"

#include <arpa/inet.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>

#include "common/settings.h"
#include "network/dns_probe.h"
#include "network/powerdns_client.h"
#include "network/zone_names.h"

namespace matih::plugins::network {
namespace {

using Key = std::pair<std::string, std::string>;

// Everything one call needs, from params, settings and the tenant.
struct ZoneCall {
  ZoneParams params;
  std::string zone;            // "acme.tenants.matih.test."
  std::string address;         // the tenant's ingress address
  std::string address_type;    // "A" or "AAAA"
  std::vector<RRSet> desired;  // SOA, NS, host records of the tenant's zone
  RRSet delegation;            // the NS set in the parent zone

  explicit ZoneCall(const Context& ctx) {
    params = ZoneParams::Parse(ParseParamsObject(ctx.params_json()));
    zone = params.TenantZone(ctx.slug());
    address = ctx.required_setting("network.ingress_address");
    unsigned char buf[sizeof(in6_addr)];
    if (inet_pton(AF_INET, address.c_str(), buf) == 1) {
      address_type = "A";
    } else if (inet_pton(AF_INET6, address.c_str(), buf) == 1) {
      address_type = "AAAA";
    } else {
      throw InvalidArgument("setting network.ingress_address '" + address +
                            "' is not an IPv4 or IPv6 address");
    }
    std::vector<std::string> ns = params.nameservers;
    std::sort(ns.begin(), ns.end());
    desired.push_back({zone,
                       "SOA",
                       params.ttl,
                       {params.nameservers.front() + " " + params.hostmaster + " 1 10800 3600 604800 " +
                        std::to_string(params.ttl)}});
    desired.push_back({zone, "NS", params.ttl, ns});
    for (const auto& r : params.records)
      desired.push_back({ZoneParams::RecordName(r, zone), address_type, params.ttl, {address}});
    delegation = {zone, "NS", params.ttl, ns};
  }
};

PowerDnsClient Client(const Context& ctx) {
  const std::string backend = SettingOr(ctx, "network.dns_backend", "powerdns");
  if (backend != "powerdns")
    throw InvalidArgument("setting network.dns_backend '" + backend + "' is not supported (powerdns)");
  auto key = ctx.setting("network.powerdns_api_key");
  if (!key || key->empty()) throw PermanentError("missing runner setting targets.network.powerdns_api_key");
  return PowerDnsClient(ctx.required_setting("network.powerdns_api_url"), *key,
                        SettingOr(ctx, "network.powerdns_server_id", "localhost"),
                        std::chrono::milliseconds(ParseCount(
                            "network.http_timeout_ms", SettingOr(ctx, "network.http_timeout_ms", "10000"))));
}

std::string Join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

std::vector<std::string> Fields(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

// SOA contents compare without the serial, which PowerDNS raises on every change.
bool SameRRSet(const RRSet& want, const RRSet& have) {
  if (want.ttl != have.ttl || want.contents.size() != have.contents.size()) return false;
  if (want.type != "SOA") return want.contents == have.contents;
  auto a = Fields(want.contents.front()), b = Fields(have.contents.front());
  if (a.size() != 7 || b.size() != 7) return false;
  a[2] = b[2];
  return a == b;
}

// The changes that bring `actual` to `desired`; `extra` also removes record sets not desired.
struct ZoneDiff {
  std::vector<RRSet> replace;
  std::vector<Key> remove;
  std::vector<std::string> lines;
  bool empty() const { return replace.empty() && remove.empty(); }
};

ZoneDiff Diff(const std::vector<RRSet>& desired, const RRSetMap& actual, bool extra) {
  ZoneDiff d;
  std::set<Key> wanted;
  for (const auto& want : desired) {
    wanted.insert({want.name, want.type});
    auto it = actual.find({want.name, want.type});
    if (it == actual.end()) {
      d.lines.push_back("missing " + want.type + " " + want.name);
      d.replace.push_back(want);
    } else if (!SameRRSet(want, it->second)) {
      d.lines.push_back(want.type + " " + want.name + " is " + Join(it->second.contents) + " (ttl " +
                        std::to_string(it->second.ttl) + "), want " + Join(want.contents) + " (ttl " +
                        std::to_string(want.ttl) + ")");
      RRSet fixed = want;
      if (want.type == "SOA") {  // keep the live serial; PowerDNS raises it itself
        auto f = Fields(want.contents.front());
        f[2] = Fields(it->second.contents.front()).at(2);
        fixed.contents = {Join(f, " ")};
      }
      d.replace.push_back(fixed);
    }
  }
  if (extra)
    for (const auto& [key, set] : actual)
      if (!wanted.count(key)) {
        d.lines.push_back("unexpected " + key.second + " " + key.first);
        d.remove.push_back(key);
      }
  return d;
}

RRSetMap ParentDelegation(const RRSetMap& parent, const std::string& zone) {
  RRSetMap out;
  auto it = parent.find({zone, "NS"});
  if (it != parent.end()) out.insert(*it);
  return out;
}

RRSetMap RequireParent(const PowerDnsClient& client, const ZoneCall& call) {
  auto parent = client.GetZone(call.params.parent_zone);
  if (!parent)
    throw PermanentError("parent zone " + call.params.parent_zone +
                         " does not exist on the PowerDNS server at " + client.url() +
                         "; the platform creates it (scripts/stack does locally)");
  return *parent;
}

// Asks the DNS server for every record this step owns; "" when it serves all of them.
std::string CheckServed(const DnsProbe& dns, const ZoneCall& call) {
  for (const auto& r : call.params.records) {
    const std::string name = ZoneParams::RecordName(r == "*" ? "matih-wildcard-probe" : r, call.zone);
    auto got = dns.Query(name, call.address_type);
    if (got != std::vector<std::string>{call.address})
      return call.address_type + " " + name + " answers [" + Join(got) + "], want " + call.address;
  }
  auto soa = dns.Query(call.zone, "SOA");
  if (soa.size() != 1 || Fields(soa.front()).empty() ||
      Fields(soa.front())[0] != call.params.nameservers.front())
    return "SOA " + call.zone + " answers [" + Join(soa) + "]";
  auto ns = dns.Query(call.zone, "NS");
  std::sort(ns.begin(), ns.end());
  if (ns != call.delegation.contents) return "NS " + call.zone + " answers [" + Join(ns) + "]";
  std::vector<std::string> delegated;
  for (const auto& rec : dns.Transfer(call.params.parent_zone))
    if (rec.name == call.zone && rec.type == "NS") delegated.push_back(rec.data);
  std::sort(delegated.begin(), delegated.end());
  if (delegated != call.delegation.contents)
    return "the parent zone " + call.params.parent_zone + " delegates " + call.zone + " to [" +
           Join(delegated) + "], want " + Join(call.delegation.contents);
  return "";
}

void VerifyServed(const Context& ctx, const ZoneCall& call) {
  const auto timeout = std::chrono::milliseconds(
      ParseCount("network.dns_timeout_ms", SettingOr(ctx, "network.dns_timeout_ms", "3000")));
  DnsProbe dns(ctx.required_setting("network.dns_server"),
               std::min(timeout, std::chrono::milliseconds(1000)));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string problem;
  while (true) {
    problem = CheckServed(dns, call);
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
  const ZoneCall call(ctx);
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
  const ZoneCall call(ctx);
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
  VerifyServed(ctx, call);
  ctx.set_output("zone", WithoutDot(call.zone));
  ctx.set_output("nameservers", Join(call.delegation.contents, ","));
  ctx.set_output("ingress_address", call.address);
}

void DnsZoneStep::remove(Context& ctx) {
  const ZoneCall call(ctx);
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
