#include "network/zone_diff.h"

#include <arpa/inet.h>

#include <algorithm>
#include <set>
#include <sstream>

namespace matih::plugins::network {

TenantZone::TenantZone(const Context& ctx) {
  params = ZoneParams::Parse(ParseParamsObject(ctx.params_json()));
  zone = params.TenantZone(ctx.slug());
  address = ctx.required_setting("network.ingress_address");
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, address.c_str(), buf) == 1) {
    address_type = "A";
  } else if (inet_pton(AF_INET6, address.c_str(), buf) == 1) {
    address_type = "AAAA";
  } else {
    throw InvalidArgument("setting network.ingress_address '" + address + "' is not an IPv4 or IPv6 address");
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

std::string Join(const std::vector<std::string>& items, const char* sep) {
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

bool SameRRSet(const RRSet& want, const RRSet& have) {
  if (want.ttl != have.ttl || want.contents.size() != have.contents.size()) return false;
  if (want.type != "SOA") return want.contents == have.contents;
  auto a = Fields(want.contents.front()), b = Fields(have.contents.front());
  if (a.size() != 7 || b.size() != 7) return false;
  a[2] = b[2];
  return a == b;
}

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

}  // namespace matih::plugins::network
