#include "network/powerdns_client.h"

#include <algorithm>
#include <matih/step.hpp>

namespace matih::plugins::network {
namespace {

nlohmann::json ToJson(const RRSet& set, const char* changetype) {
  nlohmann::json records = nlohmann::json::array();
  for (const auto& c : set.contents) records.push_back({{"content", c}, {"disabled", false}});
  nlohmann::json j = {{"name", set.name}, {"type", set.type}, {"ttl", set.ttl}, {"records", records}};
  if (changetype) j["changetype"] = changetype;
  return j;
}

// The API's error text ({"error": "..."}), shortened; it never echoes our key.
std::string ErrorText(const HttpResponse& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  std::string text = j.is_object() && j.contains("error") && j["error"].is_string()
                         ? j["error"].get<std::string>()
                         : r.body.substr(0, 200);
  return "HTTP " + std::to_string(r.status) + (text.empty() ? "" : ": " + text);
}

}  // namespace

PowerDnsClient::PowerDnsClient(std::string api_url, std::string api_key, std::string server_id,
                               std::chrono::milliseconds timeout)
    : api_url_(std::move(api_url)),
      api_key_(std::move(api_key)),
      server_id_(std::move(server_id)),
      http_(TlsOptions{}, timeout) {
  while (!api_url_.empty() && api_url_.back() == '/') api_url_.pop_back();
}

std::string PowerDnsClient::ZonePath(const std::string& zone) const {
  return "/api/v1/servers/" + HttpClient::Escape(server_id_) + "/zones/" + HttpClient::Escape(zone);
}

HttpResponse PowerDnsClient::Call(const std::string& method, const std::string& path, const std::string& body,
                                  const std::string& what) const {
  HttpRequest req;
  req.method = method;
  req.url = api_url_ + path;
  req.headers = {"X-API-Key: " + api_key_, "Accept: application/json"};
  if (!body.empty()) {
    req.headers.push_back("Content-Type: application/json");
    req.body = body;
  }
  HttpResponse r;
  try {
    r = http_.Send(req);
  } catch (const TransientError& e) {
    throw TransientError("PowerDNS API at " + api_url_ + " is unreachable (" + what + "): " + e.what());
  }
  if (IsTransientHttpStatus(r.status))
    throw TransientError("PowerDNS API at " + api_url_ + " is busy or failing (" + what +
                         "): " + ErrorText(r));
  if (r.status == 401 || r.status == 403)
    throw PermanentError("PowerDNS API at " + api_url_ + " refused the API key (" + what +
                         "); check setting network.powerdns_api_key");
  return r;
}

std::optional<RRSetMap> PowerDnsClient::GetZone(const std::string& zone) const {
  auto r = Call("GET", ZonePath(zone), "", "read zone " + zone);
  if (r.status == 404 || r.status == 422) return std::nullopt;
  if (r.status != 200)
    throw PermanentError("PowerDNS API at " + api_url_ + " could not read zone " + zone + ": " +
                         ErrorText(r));
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("rrsets") || !j["rrsets"].is_array())
    throw PermanentError("PowerDNS API at " + api_url_ + " answered zone " + zone + " without rrsets");
  RRSetMap out;
  for (const auto& s : j["rrsets"]) {
    RRSet set;
    set.name = s.value("name", "");
    set.type = s.value("type", "");
    set.ttl = s.value("ttl", 0);
    for (const auto& rec : s.value("records", nlohmann::json::array()))
      if (!rec.value("disabled", false)) set.contents.push_back(rec.value("content", ""));
    std::sort(set.contents.begin(), set.contents.end());
    if (!set.contents.empty()) out[{set.name, set.type}] = std::move(set);
  }
  return out;
}

void PowerDnsClient::CreateZone(const std::string& zone, const std::vector<RRSet>& rrsets) const {
  nlohmann::json body = {{"name", zone},
                         {"kind", "Native"},
                         {"nameservers", nlohmann::json::array()},
                         {"soa_edit_api", "DEFAULT"},
                         {"rrsets", nlohmann::json::array()}};
  for (const auto& s : rrsets) body["rrsets"].push_back(ToJson(s, nullptr));
  auto r = Call("POST", "/api/v1/servers/" + HttpClient::Escape(server_id_) + "/zones", body.dump(),
                "create zone " + zone);
  if (r.status != 201 && r.status != 200)
    throw PermanentError("PowerDNS API at " + api_url_ + " refused to create zone " + zone + ": " +
                         ErrorText(r));
}

void PowerDnsClient::PatchZone(const std::string& zone, const std::vector<RRSet>& replace,
                               const std::vector<std::pair<std::string, std::string>>& remove) const {
  nlohmann::json body = {{"rrsets", nlohmann::json::array()}};
  for (const auto& s : replace) body["rrsets"].push_back(ToJson(s, "REPLACE"));
  for (const auto& [name, type] : remove)
    body["rrsets"].push_back({{"name", name}, {"type", type}, {"changetype", "DELETE"}});
  if (body["rrsets"].empty()) return;
  auto r = Call("PATCH", ZonePath(zone), body.dump(), "change records of zone " + zone);
  if (r.status == 404) throw PermanentError("PowerDNS API at " + api_url_ + " has no zone " + zone);
  if (r.status != 204 && r.status != 200)
    throw PermanentError("PowerDNS API at " + api_url_ + " refused to change records of zone " + zone + ": " +
                         ErrorText(r));
}

void PowerDnsClient::DeleteZone(const std::string& zone) const {
  auto r = Call("DELETE", ZonePath(zone), "", "delete zone " + zone);
  if (r.status == 404 || r.status == 422 || r.status == 204 || r.status == 200) return;
  throw PermanentError("PowerDNS API at " + api_url_ + " refused to delete zone " + zone + ": " +
                       ErrorText(r));
}

}  // namespace matih::plugins::network
