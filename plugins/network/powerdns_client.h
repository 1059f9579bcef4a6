// PowerDnsClient: the few calls of the PowerDNS authoritative server's HTTP API (v1) that the
// DNS zone step needs: read a zone with its record sets, create a zone, replace or delete record
// sets (PATCH), delete a zone. Every request carries the API key (X-API-Key), never logged.
//
// Errors: an unreachable or timed-out server and 5xx answers are TransientError; other refusals
// are PermanentError naming the server and the zone. 404 on a read is "absent" (nullopt).
// One client per step call; not shared between threads.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/http_client.h"
#include "network/zone_diff.h"

namespace matih::plugins::network {

class PowerDnsClient {
 public:
  PowerDnsClient(std::string api_url, std::string api_key, std::string server_id,
                 std::chrono::milliseconds timeout);

  // The zone's record sets, or nullopt when the server does not have the zone.
  std::optional<RRSetMap> GetZone(const std::string& zone) const;
  // Creates a Native zone with exactly these record sets (SOA and NS included).
  void CreateZone(const std::string& zone, const std::vector<RRSet>& rrsets) const;
  // One PATCH: REPLACE each of `replace`, DELETE each (name, type) of `remove`.
  void PatchZone(const std::string& zone, const std::vector<RRSet>& replace,
                 const std::vector<std::pair<std::string, std::string>>& remove) const;
  // Deletes the zone; fine when it does not exist.
  void DeleteZone(const std::string& zone) const;

  const std::string& url() const { return api_url_; }

 private:
  HttpResponse Call(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& what) const;
  std::string ZonePath(const std::string& zone) const;

  std::string api_url_, api_key_, server_id_;
  HttpClient http_;
};

}  // namespace matih::plugins::network
