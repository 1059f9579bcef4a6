// The desired state of a tenant's DNS zone and the comparison of record sets, shared by the DNS
// backends of step 41 (PowerDNS, Azure DNS): record sets as plain values (absolute names, sorted
// contents), the diff that turns what a server has into what the step wants, and TenantZone, the
// zone one step call wants (from params, settings and the tenant). Pure values; any thread.
#pragma once

#include <map>
#include <matih/step.hpp>
#include <string>
#include <utility>
#include <vector>

#include "network/zone_names.h"

namespace matih::plugins::network {

// One record set: its records' contents (sorted) and TTL.
struct RRSet {
  std::string name, type;  // absolute name, "A"
  int ttl = 0;
  std::vector<std::string> contents;
};

using Key = std::pair<std::string, std::string>;  // (absolute name, type)
// A zone's record sets by (name, type).
using RRSetMap = std::map<Key, RRSet>;

// What step 41 wants for one tenant.
struct TenantZone {
  ZoneParams params;
  std::string zone;            // "acme.tenants.matih.test."
  std::string address;         // the tenant's ingress address (setting network.ingress_address)
  std::string address_type;    // "A" or "AAAA"
  std::vector<RRSet> desired;  // SOA, NS, host records of the tenant's zone
  RRSet delegation;            // the NS set in the parent zone (params.nameservers)

  // InvalidArgument for bad params or a bad ingress address.
  explicit TenantZone(const Context& ctx);
};

// The changes that bring `actual` to `desired`: record sets to replace (create or overwrite) and,
// when `extra`, record sets to delete because nothing wants them; `lines` says why, briefly.
struct ZoneDiff {
  std::vector<RRSet> replace;
  std::vector<Key> remove;
  std::vector<std::string> lines;
  bool empty() const { return replace.empty() && remove.empty(); }
};
ZoneDiff Diff(const std::vector<RRSet>& desired, const RRSetMap& actual, bool extra);

// SOA contents compare without the serial, which servers raise on every change.
bool SameRRSet(const RRSet& want, const RRSet& have);
std::string Join(const std::vector<std::string>& items, const char* sep = ", ");
std::vector<std::string> Fields(const std::string& text);

}  // namespace matih::plugins::network
