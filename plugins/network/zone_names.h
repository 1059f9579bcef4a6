// DNS names of a tenant's zone and the params that name them, shared by the network steps.
//
// ZoneParams is what the catalog gives steps 40-42 and 56: the parent zone (required), the name
// servers the tenant's zone is delegated to, the TTL and the host records of the zone. Parse
// refuses anything that is not a valid name (InvalidArgument naming the param), so a bad parent
// zone stops at catalog load. Names are absolute and lower case ("acme.tenants.matih.test.").
// Pure values and functions; safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace matih::plugins::network {

// "Tenants.Matih.Test" -> "tenants.matih.test."; InvalidArgument naming `what` when it is not a
// host name of RFC 1035 labels (letters, digits, hyphens; 1-63 characters; 253 in all).
std::string AbsoluteName(std::string_view name, std::string_view what);
// Without the final dot: "acme.tenants.matih.test".
std::string WithoutDot(const std::string& name);

struct ZoneParams {
  std::string parent_zone;               // "tenants.matih.test."
  std::vector<std::string> nameservers;  // absolute; default {"ns1.<parent_zone>"}
  std::string hostmaster;                // absolute; default "hostmaster.<parent_zone>"
  int ttl = 300;
  std::vector<std::string> records;  // "@", "*" or a label; default @, *, api, bi

  // InvalidArgument naming the param for anything wrong; unknown keys are left to the caller.
  static ZoneParams Parse(const nlohmann::json& params);
  // "<slug>.<parent_zone>"; InvalidArgument when the slug is not a DNS label.
  std::string TenantZone(const std::string& slug) const;
  // The absolute name of record `record` in `zone` ("@" is the zone itself).
  static std::string RecordName(const std::string& record, const std::string& zone);
};

// The params text as a JSON object ("" is {}); InvalidArgument otherwise.
nlohmann::json ParseParamsObject(std::string_view text);

}  // namespace matih::plugins::network
