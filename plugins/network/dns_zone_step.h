// network.dns_zone (step 41, create-dns-zone): the tenant's child zone "<slug>.<parent_zone>"
// with its SOA and NS records and A (or AAAA) records for the hosts of param `records` (default
// @, *, api, bi) pointing at the tenant's ingress address, plus the NS delegation record set in
// the parent zone. The parent zone must exist (the platform owns it); the tenant's zone and the
// delegation belong to this step, so records found there that it did not write are drift and
// are removed by apply. Remove deletes the delegation first, then the zone.
//
// Backend: PowerDNS through its HTTP API (setting network.dns_backend = powerdns, the default),
// or Azure DNS (azure; azure_dns_zone.h: Azure assigns the zone's name servers and owns its SOA).
// After every apply the result is checked with real DNS queries to network.dns_server: each host
// record (a name under the wildcard for "*"), the zone's SOA and NS, and the delegation in the
// parent zone (by AXFR of the parent, since the same server answers for the child). A server that
// does not serve the records yet is a TransientError naming the record.
//
// Params (catalog): parent_zone (required), nameservers, hostmaster, ttl, records (zone_names.h).
// Settings ([targets]): network.powerdns_api_url, network.powerdns_api_key (secret),
// network.powerdns_server_id (localhost), network.dns_server (ADDRESS:PORT), network.ingress_address,
// network.dns_timeout_ms (3000), network.http_timeout_ms (10000).
// Outputs: zone, nameservers, ingress_address. Stateless; safe to call from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::network {

class DnsZoneStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::network
