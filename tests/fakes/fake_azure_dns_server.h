// FakeAzureDnsServer: a FAKE of Azure Resource Manager's DNS API (Microsoft.Network/dnsZones,
// api-version 2018-05-01) for tests: no Azure can be reached from these machines. It speaks just
// enough of the API for step 41's Azure backend:
//
//   PUT    .../dnsZones/{zone}                      creates a zone with four Azure-style name
//                                                   servers, an SOA and an apex NS; 201, or 200
//                                                   with the same name servers when it exists
//   GET    .../dnsZones/{zone}                      200 with properties.nameServers, or 404
//   DELETE .../dnsZones/{zone}                      202 + Azure-AsyncOperation (the operation
//                                                   answers Succeeded), or 204 when absent
//   GET    .../dnsZones/{zone}/recordsets           {"value": [...]} (two per page, nextLink)
//   GET/PUT/DELETE .../dnsZones/{zone}/{type}/{name} one record set (A, AAAA, NS, TXT, CNAME)
// where ... is /subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Network. Every
// request needs ?api-version=2018-05-01 (400 otherwise); with a token set, any other bearer gets
// 401. Requests are logged; FailNext answers the next ones with a given status.
// Binds 127.0.0.1 on a free port; serves on its own thread until destroyed. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fakes/fake_azure_front.h"

namespace matih::testing {

class FakeAzureDnsServer {
 public:
  FakeAzureDnsServer();
  ~FakeAzureDnsServer();

  std::string url() const { return front_.url(); }
  void RequireBearerToken(std::string token) { front_.RequireBearerToken(std::move(token)); }
  void FailNext(int status, int count = 1) { front_.FailNext(status, count); }

  // Hand changes and reads of the state, as the Azure portal would show it. Zones have no final dot.
  void AddZone(const std::string& group, const std::string& zone);
  bool HasZone(const std::string& group, const std::string& zone) const;
  std::vector<std::string> NameServers(const std::string& group, const std::string& zone) const;
  // properties of the record set, or nullopt.
  std::optional<nlohmann::json> RecordSet(const std::string& group, const std::string& zone,
                                          const std::string& type, const std::string& name) const;
  void SetRecordSet(const std::string& group, const std::string& zone, const std::string& type,
                    const std::string& name, nlohmann::json properties);
  void DeleteRecordSet(const std::string& group, const std::string& zone, const std::string& type,
                       const std::string& name);
  // "METHOD path" of every request so far.
  std::vector<std::string> requests() const { return front_.requests(); }

 private:
  struct Zone {
    std::vector<std::string> name_servers;
    std::map<std::pair<std::string, std::string>, nlohmann::json> sets;  // (type, name) -> properties
  };
  nlohmann::json SetJson(const std::string& base, const std::string& type, const std::string& name,
                         const nlohmann::json& properties) const;

  mutable std::mutex mu_;
  std::map<std::string, Zone> zones_;  // "group/zone"
  int zone_counter_ = 0;
  FakeAzureFront front_;  // last: stops serving before the state above goes away
};

}  // namespace matih::testing
