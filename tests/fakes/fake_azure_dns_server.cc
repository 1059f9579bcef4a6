#include "fakes/fake_azure_dns_server.h"

#include <httplib.h>

#include <algorithm>

namespace matih::testing {
namespace {

constexpr auto Reply = &FakeAzureFront::Reply;
constexpr auto Error = &FakeAzureFront::Error;
constexpr auto Lower = &FakeAzureFront::Lower;

const std::string kPrefix =
    R"(/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.Network/dnsZones/([^/]+))";

}  // namespace

FakeAzureDnsServer::FakeAzureDnsServer()
    : front_("FakeAzureDnsServer",
             {"2018-05-01", "MissingApiVersionParameter", "The api-version query parameter is required",
              "AuthenticationFailed", "Authentication failed"}) {
  auto admit = [this](const httplib::Request& req, httplib::Response& res) { return front_.Admit(req, res); };

  front_.server().Get(kPrefix, [this, admit](const httplib::Request& req, httplib::Response& res) {
    if (!admit(req, res)) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = zones_.find(req.matches[2].str() + "/" + Lower(req.matches[3].str()));
    if (it == zones_.end()) return Error(res, 404, "ResourceNotFound", "zone not found");
    Reply(res, 200,
          {{"name", req.matches[3].str()},
           {"location", "global"},
           {"properties", {{"nameServers", it->second.name_servers}, {"zoneType", "Public"}}}});
  });
  front_.server().Put(kPrefix, [this, admit](const httplib::Request& req, httplib::Response& res) {
    if (!admit(req, res)) return;
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object() || body.value("location", "") != "global")
      return Error(res, 400, "BadRequest", "a DNS zone's location must be global");
    std::lock_guard<std::mutex> lock(mu_);
    const std::string key = req.matches[2].str() + "/" + Lower(req.matches[3].str());
    bool created = !zones_.count(key);
    auto& zone = zones_[key];
    if (created) {
      const std::string n = std::to_string(++zone_counter_);
      zone.name_servers = {"ns1-0" + n + ".azure-dns.com.", "ns2-0" + n + ".azure-dns.net.",
                           "ns3-0" + n + ".azure-dns.org.", "ns4-0" + n + ".azure-dns.info."};
      nlohmann::json ns = nlohmann::json::array();
      for (const auto& s : zone.name_servers) ns.push_back({{"nsdname", s}});
      zone.sets[{"NS", "@"}] = {{"TTL", 172800}, {"NSRecords", ns}};
      zone.sets[{"SOA", "@"}] = {{"TTL", 3600},
                                 {"SOARecord",
                                  {{"host", zone.name_servers[0]},
                                   {"email", "azuredns-hostmaster.microsoft.com"},
                                   {"serialNumber", 1},
                                   {"refreshTime", 3600},
                                   {"retryTime", 300},
                                   {"expireTime", 2419200},
                                   {"minimumTTL", 300}}}};
    }
    Reply(res, created ? 201 : 200,
          {{"name", req.matches[3].str()},
           {"location", "global"},
           {"properties", {{"nameServers", zone.name_servers}}}});
  });
  front_.server().Delete(kPrefix, [this, admit](const httplib::Request& req, httplib::Response& res) {
    if (!admit(req, res)) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (!zones_.erase(req.matches[2].str() + "/" + Lower(req.matches[3].str()))) {
      res.status = 204;
      return;
    }
    res.status = 202;
    res.set_header("Azure-AsyncOperation", url() + "/operations/delete-" + std::to_string(++zone_counter_) +
                                               "?api-version=2018-05-01");
  });
  front_.server().Get(R"(/operations/([^/]+))", [admit](const httplib::Request& req, httplib::Response& res) {
    if (!admit(req, res)) return;
    Reply(res, 200, {{"status", "Succeeded"}});
  });
  front_.server().Get(kPrefix + "/recordsets", [this, admit](const httplib::Request& req,
                                                             httplib::Response& res) {
    if (!admit(req, res)) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = zones_.find(req.matches[2].str() + "/" + Lower(req.matches[3].str()));
    if (it == zones_.end()) return Error(res, 404, "ResourceNotFound", "zone not found");
    const size_t skip = req.has_param("$skipToken") ? std::stoul(req.get_param_value("$skipToken")) : 0;
    nlohmann::json value = nlohmann::json::array();
    size_t i = 0;
    for (const auto& [key, props] : it->second.sets) {
      if (i++ < skip || value.size() >= 2) continue;
      value.push_back(SetJson(req.path.substr(0, req.path.size() - 11), key.first, key.second, props));
    }
    nlohmann::json body = {{"value", value}};
    if (skip + 2 < it->second.sets.size())
      body["nextLink"] = url() + req.path + "?api-version=2018-05-01&$skipToken=" + std::to_string(skip + 2);
    Reply(res, 200, body);
  });
  const std::string set_path = kPrefix + "/(A|AAAA|NS|TXT|CNAME|SOA)/([^/]+)";
  front_.server().Get(set_path, [this, admit](const httplib::Request& req, httplib::Response& res) {
    if (!admit(req, res)) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = zones_.find(req.matches[2].str() + "/" + Lower(req.matches[3].str()));
    if (it == zones_.end()) return Error(res, 404, "ParentResourceNotFound", "zone not found");
    auto set = it->second.sets.find({req.matches[4].str(), req.matches[5].str()});
    if (set == it->second.sets.end()) return Error(res, 404, "NotFound", "record set not found");
    Reply(res, 200, SetJson(req.path, set->first.first, set->first.second, set->second));
  });
  front_.server().Put(set_path, [this, admit](const httplib::Request& req, httplib::Response& res) {
    if (!admit(req, res)) return;
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    const std::string type = req.matches[4].str();
    const std::map<std::string, std::string> field = {{"A", "ARecords"},
                                                      {"AAAA", "AAAARecords"},
                                                      {"NS", "NSRecords"},
                                                      {"TXT", "TXTRecords"},
                                                      {"CNAME", "CNAMERecord"}};
    if (!body.is_object() || !body.contains("properties") || !body["properties"].contains("TTL") ||
        !body["properties"].contains(field.at(type)))
      return Error(res, 400, "BadRequest",
                   "the record set needs properties.TTL and properties." + field.at(type));
    std::lock_guard<std::mutex> lock(mu_);
    auto it = zones_.find(req.matches[2].str() + "/" + Lower(req.matches[3].str()));
    if (it == zones_.end()) return Error(res, 404, "ParentResourceNotFound", "zone not found");
    const std::pair<std::string, std::string> key = {type, req.matches[5].str()};
    const bool created = !it->second.sets.count(key);
    it->second.sets[key] = body["properties"];
    Reply(res, created ? 201 : 200, SetJson(req.path, type, key.second, body["properties"]));
  });
  front_.server().Delete(set_path, [this, admit](const httplib::Request& req, httplib::Response& res) {
    if (!admit(req, res)) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = zones_.find(req.matches[2].str() + "/" + Lower(req.matches[3].str()));
    if (it == zones_.end()) return Error(res, 404, "ParentResourceNotFound", "zone not found");
    res.status = it->second.sets.erase({req.matches[4].str(), req.matches[5].str()}) ? 200 : 204;
  });

  front_.Start();
}

FakeAzureDnsServer::~FakeAzureDnsServer() = default;

nlohmann::json FakeAzureDnsServer::SetJson(const std::string& base, const std::string& type,
                                           const std::string& name, const nlohmann::json& properties) const {
  return {{"id", base},
          {"name", name},
          {"type", "Microsoft.Network/dnszones/" + type},
          {"properties", properties}};
}

void FakeAzureDnsServer::AddZone(const std::string& group, const std::string& zone) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& z = zones_[group + "/" + Lower(zone)];
  z.name_servers = {"ns1-00.azure-dns.com.", "ns2-00.azure-dns.net."};
}

bool FakeAzureDnsServer::HasZone(const std::string& group, const std::string& zone) const {
  std::lock_guard<std::mutex> lock(mu_);
  return zones_.count(group + "/" + Lower(zone)) > 0;
}

std::vector<std::string> FakeAzureDnsServer::NameServers(const std::string& group,
                                                         const std::string& zone) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = zones_.find(group + "/" + Lower(zone));
  return it == zones_.end() ? std::vector<std::string>{} : it->second.name_servers;
}

std::optional<nlohmann::json> FakeAzureDnsServer::RecordSet(const std::string& group, const std::string& zone,
                                                            const std::string& type,
                                                            const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = zones_.find(group + "/" + Lower(zone));
  if (it == zones_.end()) return std::nullopt;
  auto set = it->second.sets.find({type, name});
  if (set == it->second.sets.end()) return std::nullopt;
  return set->second;
}

void FakeAzureDnsServer::SetRecordSet(const std::string& group, const std::string& zone,
                                      const std::string& type, const std::string& name,
                                      nlohmann::json properties) {
  std::lock_guard<std::mutex> lock(mu_);
  zones_.at(group + "/" + Lower(zone)).sets[{type, name}] = std::move(properties);
}

void FakeAzureDnsServer::DeleteRecordSet(const std::string& group, const std::string& zone,
                                         const std::string& type, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  zones_.at(group + "/" + Lower(zone)).sets.erase({type, name});
}

}  // namespace matih::testing
