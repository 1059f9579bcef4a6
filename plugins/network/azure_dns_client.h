// AzureDnsClient: the Azure DNS REST API (Microsoft.Network/dnsZones, api-version 2018-05-01) as
// step 41 uses it in production: zones (PUT creates, GET answers the name servers Azure assigned,
// DELETE is asynchronous: 202 + Azure-AsyncOperation, polled to the end), record sets by type and
// relative name (PUT replaces, DELETE removes, GET .../recordsets lists them). Bearer token auth.
// Names in and out are absolute with the final dot, as in zone_diff.h; the API's zone names and
// relative record names ("@", "*", "api") are this class's business.
//
// Errors: unreachable, 5xx and 429 are TransientError; 401/403 PermanentError naming setting
// network.azure_access_token; other refusals PermanentError with Azure's error code and message.
// Tested against tests/fakes/fake_azure_dns_server (no Azure here). One client per step call.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "network/zone_diff.h"

namespace matih::plugins::network {

class AzureDnsClient {
 public:
  AzureDnsClient(std::string base_url, std::string subscription, std::string token,
                 std::chrono::milliseconds timeout);

  // The zone's name servers (absolute, sorted), or nullopt when the zone does not exist.
  std::optional<std::vector<std::string>> GetZone(const std::string& group, const std::string& zone) const;
  // Creates (or keeps) a public zone; answers its name servers.
  std::vector<std::string> PutZone(const std::string& group, const std::string& zone) const;
  // Deletes the zone and waits for the operation to end; fine when absent.
  void DeleteZone(const std::string& group, const std::string& zone) const;
  // Every record set of the zone.
  RRSetMap ListRecordSets(const std::string& group, const std::string& zone) const;
  std::optional<RRSet> GetRecordSet(const std::string& group, const std::string& zone,
                                    const std::string& name, const std::string& type) const;
  void PutRecordSet(const std::string& group, const std::string& zone, const RRSet& set) const;
  // Fine when absent.
  void DeleteRecordSet(const std::string& group, const std::string& zone, const std::string& name,
                       const std::string& type) const;

  const std::string& url() const { return base_url_; }

 private:
  HttpResponse Call(const std::string& method, const std::string& url, const std::string& body,
                    const std::string& what) const;
  std::string ZoneUrl(const std::string& group, const std::string& zone,
                      const std::string& suffix = "") const;

  std::string base_url_, subscription_, token_;
  std::chrono::milliseconds timeout_;
  HttpClient http_;
};

// "api.acme.x." in zone "acme.x." -> "api"; the zone itself -> "@".
std::string RelativeName(const std::string& name, const std::string& zone);

}  // namespace matih::plugins::network
