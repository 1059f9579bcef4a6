#include "network/azure_dns_client.h"

#include <algorithm>
#include <matih/step.hpp>
#include <nlohmann/json.hpp>
#include <thread>

namespace matih::plugins::network {
namespace {

constexpr const char* kApiVersion = "api-version=2018-05-01";

std::string Absolute(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return !name.empty() && name.back() == '.' ? name : name + ".";
}

std::string ErrorText(const HttpResponse& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object())
    return "HTTP " + std::to_string(r.status) + " " + j["error"].value("code", "") + ": " +
           j["error"].value("message", "");
  return "HTTP " + std::to_string(r.status);
}

// The record set's properties in Azure's shape.
nlohmann::json Properties(const RRSet& set) {
  nlohmann::json p = {{"TTL", set.ttl}};
  auto list = nlohmann::json::array();
  if (set.type == "A") {
    for (const auto& c : set.contents) list.push_back({{"ipv4Address", c}});
    p["ARecords"] = list;
  } else if (set.type == "AAAA") {
    for (const auto& c : set.contents) list.push_back({{"ipv6Address", c}});
    p["AAAARecords"] = list;
  } else if (set.type == "NS") {
    for (const auto& c : set.contents) list.push_back({{"nsdname", c}});
    p["NSRecords"] = list;
  } else {
    throw PermanentError("Azure DNS: record type " + set.type + " is not written by this step");
  }
  return p;
}

// Azure's record set JSON as an RRSet (contents of the types we know; others as opaque text).
RRSet FromAzure(const nlohmann::json& j, const std::string& zone) {
  RRSet set;
  const std::string rel = j.value("name", "@");
  set.name = rel == "@" ? zone : Absolute(rel) == "." ? zone : rel + "." + zone;
  const std::string type = j.value("type", "");
  set.type = type.substr(type.rfind('/') + 1);
  const auto& p = j.contains("properties") ? j["properties"] : nlohmann::json::object();
  set.ttl = p.value("TTL", 0);
  if (p.contains("ARecords"))
    for (const auto& r : p["ARecords"]) set.contents.push_back(r.value("ipv4Address", ""));
  if (p.contains("AAAARecords"))
    for (const auto& r : p["AAAARecords"]) set.contents.push_back(r.value("ipv6Address", ""));
  if (p.contains("NSRecords"))
    for (const auto& r : p["NSRecords"]) set.contents.push_back(Absolute(r.value("nsdname", "")));
  if (p.contains("SOARecord")) set.contents.push_back(p["SOARecord"].dump());
  if (set.contents.empty()) set.contents.push_back(p.dump());
  std::sort(set.contents.begin(), set.contents.end());
  return set;
}

std::vector<std::string> NameServersOf(const nlohmann::json& zone) {
  std::vector<std::string> out;
  if (zone.contains("properties") && zone["properties"].contains("nameServers"))
    for (const auto& ns : zone["properties"]["nameServers"]) out.push_back(Absolute(ns.get<std::string>()));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::string RelativeName(const std::string& name, const std::string& zone) {
  if (name == zone) return "@";
  if (name.size() > zone.size() && name.compare(name.size() - zone.size(), zone.size(), zone) == 0 &&
      name[name.size() - zone.size() - 1] == '.')
    return name.substr(0, name.size() - zone.size() - 1);
  throw PermanentError("record " + name + " is not inside zone " + zone);
}

AzureDnsClient::AzureDnsClient(std::string base_url, std::string subscription, std::string token,
                               std::chrono::milliseconds timeout)
    : base_url_(std::move(base_url)),
      subscription_(std::move(subscription)),
      token_(std::move(token)),
      timeout_(timeout),
      http_(TlsOptions{}, timeout) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

std::string AzureDnsClient::ZoneUrl(const std::string& group, const std::string& zone,
                                    const std::string& suffix) const {
  return base_url_ + "/subscriptions/" + HttpClient::Escape(subscription_) + "/resourceGroups/" +
         HttpClient::Escape(group) + "/providers/Microsoft.Network/dnsZones/" +
         HttpClient::Escape(WithoutDot(zone)) + suffix + "?" + kApiVersion;
}

HttpResponse AzureDnsClient::Call(const std::string& method, const std::string& url, const std::string& body,
                                  const std::string& what) const {
  HttpRequest req;
  req.method = method;
  req.url = url;
  req.headers = {"Authorization: Bearer " + token_, "Accept: application/json"};
  if (!body.empty()) {
    req.headers.push_back("Content-Type: application/json");
    req.body = body;
  }
  HttpResponse r;
  try {
    r = http_.Send(req);
  } catch (const TransientError& e) {
    throw TransientError("Azure DNS at " + base_url_ + " is unreachable (" + what + "): " + e.what());
  }
  if (IsTransientHttpStatus(r.status))
    throw TransientError("Azure DNS at " + base_url_ + " is busy or failing (" + what + "): " + ErrorText(r));
  if (r.status == 401 || r.status == 403)
    throw PermanentError("Azure DNS at " + base_url_ + " refused the token (" + what + ", " + ErrorText(r) +
                         "); check setting network.azure_access_token");
  return r;
}

std::optional<std::vector<std::string>> AzureDnsClient::GetZone(const std::string& group,
                                                                const std::string& zone) const {
  auto r = Call("GET", ZoneUrl(group, zone), "", "read zone " + zone);
  if (r.status == 404) return std::nullopt;
  if (r.status != 200) throw PermanentError("Azure DNS could not read zone " + zone + ": " + ErrorText(r));
  return NameServersOf(nlohmann::json::parse(r.body, nullptr, false));
}

std::vector<std::string> AzureDnsClient::PutZone(const std::string& group, const std::string& zone) const {
  nlohmann::json body = {{"location", "global"}, {"properties", {{"zoneType", "Public"}}}};
  auto r = Call("PUT", ZoneUrl(group, zone), body.dump(), "create zone " + zone);
  if (r.status != 200 && r.status != 201)
    throw PermanentError("Azure DNS refused to create zone " + zone + ": " + ErrorText(r));
  auto ns = NameServersOf(nlohmann::json::parse(r.body, nullptr, false));
  if (ns.empty()) throw PermanentError("Azure DNS created zone " + zone + " without name servers");
  return ns;
}

void AzureDnsClient::DeleteZone(const std::string& group, const std::string& zone) const {
  auto r = Call("DELETE", ZoneUrl(group, zone), "", "delete zone " + zone);
  if (r.status == 404 || r.status == 200 || r.status == 204) return;
  if (r.status != 202) throw PermanentError("Azure DNS refused to delete zone " + zone + ": " + ErrorText(r));
  auto op = r.headers.count("azure-asyncoperation") ? r.headers.at("azure-asyncoperation") : "";
  if (op.empty()) return;  // accepted without a way to follow it
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (true) {
    auto s = Call("GET", op, "", "follow the deletion of zone " + zone);
    auto j = nlohmann::json::parse(s.body, nullptr, false);
    const std::string status = j.is_object() ? j.value("status", "") : "";
    if (status == "Succeeded") return;
    if (status == "Failed" || status == "Canceled")
      throw PermanentError("Azure DNS could not delete zone " + zone + ": operation " + status);
    if (std::chrono::steady_clock::now() > deadline)
      throw TransientError("Azure DNS is still deleting zone " + zone);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

RRSetMap AzureDnsClient::ListRecordSets(const std::string& group, const std::string& zone) const {
  RRSetMap out;
  std::string url = ZoneUrl(group, zone, "/recordsets");
  for (int page = 0; !url.empty() && page < 100; ++page) {
    auto r = Call("GET", url, "", "list records of zone " + zone);
    if (r.status != 200) throw PermanentError("Azure DNS could not list zone " + zone + ": " + ErrorText(r));
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object())
      throw PermanentError("Azure DNS answered the records of " + zone + " with no JSON object");
    for (const auto& s : j.value("value", nlohmann::json::array())) {
      auto set = FromAzure(s, zone);
      out[{set.name, set.type}] = set;
    }
    url = j.value("nextLink", "");
  }
  return out;
}

std::optional<RRSet> AzureDnsClient::GetRecordSet(const std::string& group, const std::string& zone,
                                                  const std::string& name, const std::string& type) const {
  auto r = Call("GET", ZoneUrl(group, zone, "/" + type + "/" + HttpClient::Escape(RelativeName(name, zone))),
                "", "read " + type + " " + name);
  if (r.status == 404) return std::nullopt;
  if (r.status != 200)
    throw PermanentError("Azure DNS could not read " + type + " " + name + ": " + ErrorText(r));
  return FromAzure(nlohmann::json::parse(r.body, nullptr, false), zone);
}

void AzureDnsClient::PutRecordSet(const std::string& group, const std::string& zone, const RRSet& set) const {
  nlohmann::json body = {{"properties", Properties(set)}};
  auto r = Call("PUT",
                ZoneUrl(group, zone, "/" + set.type + "/" + HttpClient::Escape(RelativeName(set.name, zone))),
                body.dump(), "write " + set.type + " " + set.name);
  if (r.status != 200 && r.status != 201)
    throw PermanentError("Azure DNS refused " + set.type + " " + set.name + ": " + ErrorText(r));
}

void AzureDnsClient::DeleteRecordSet(const std::string& group, const std::string& zone,
                                     const std::string& name, const std::string& type) const {
  auto r =
      Call("DELETE", ZoneUrl(group, zone, "/" + type + "/" + HttpClient::Escape(RelativeName(name, zone))),
           "", "delete " + type + " " + name);
  if (r.status == 200 || r.status == 204 || r.status == 404) return;
  throw PermanentError("Azure DNS refused to delete " + type + " " + name + ": " + ErrorText(r));
}

}  // namespace matih::plugins::network
