// matih-network: phase 5 of provisioning, the tenant's network: step 41 (network.dns_zone).
//
// Settings read (runner config, section [targets]; config/targets.example.conf has examples):
//   network.dns_backend          powerdns (default)
//   network.powerdns_api_url     PowerDNS HTTP API, e.g. http://127.0.0.1:8081 (required for powerdns)
//   network.powerdns_api_key     its API key (secret)
//   network.powerdns_server_id   the API's server id (default localhost)
//   network.dns_server           ADDRESS[:PORT] of the authoritative DNS server the steps query
//                                to check what they wrote (required)
//   network.ingress_address      the IPv4/IPv6 address the tenants' names point at (required)
//   network.dns_timeout_ms       how long apply waits for the DNS server to serve its records (3000)
//   network.http_timeout_ms      timeout of one API request (10000)
// Params of each kind: its header (dns_zone_step.h).
#include <matih/step.hpp>

#include "network/dns_zone_step.h"

MATIH_PLUGIN("matih-network", "1.0.0") {
  plugin.setting("network.dns_backend", "DNS backend of the tenants' zones: powerdns (default)");
  plugin.setting("network.powerdns_api_url", "PowerDNS HTTP API base URL (http://host:port)");
  plugin.setting("network.powerdns_api_key", "PowerDNS API key (X-API-Key)", MATIH_SETTING_SECRET);
  plugin.setting("network.powerdns_server_id", "PowerDNS server id in the API paths (default localhost)");
  plugin.setting("network.dns_server",
                 "ADDRESS[:PORT] of the authoritative DNS server queried to check the zones");
  plugin.setting("network.ingress_address", "IP address the tenants' DNS names point at (their ingress)");
  plugin.setting("network.dns_timeout_ms",
                 "how long apply waits for the DNS server to serve new records (3000)");
  plugin.setting("network.http_timeout_ms", "timeout of one HTTP API request in milliseconds (10000)");
  plugin.add<matih::plugins::network::DnsZoneStep>(
      "network.dns_zone",
      "The tenant's DNS zone <slug>.<parent> with SOA, NS, host records and the parent's delegation");
}
