#include "fakes/fake_azure_key_vault_server.h"

#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace matih::testing {
namespace {

constexpr auto Reply = &FakeAzureFront::Reply;
constexpr auto Error = &FakeAzureFront::Error;
constexpr auto Lower = &FakeAzureFront::Lower;

}  // namespace

FakeAzureKeyVaultServer::FakeAzureKeyVaultServer()
    : front_("FakeAzureKeyVaultServer",
             {"7.4", "BadParameter", "The api-version query parameter is missing or not supported",
              "Unauthorized", "AKV10032: Invalid issuer or token"}) {
  // Counts what changed something, failed or not, then lets the front check the request.
  auto admit = [this](const httplib::Request& req, httplib::Response& res) {
    if (req.method != "GET") {
      std::lock_guard<std::mutex> lock(mu_);
      ++writes_;
    }
    return front_.Admit(req, res);
  };
  auto bundle = [this](const std::string& name, const Secret& s) {
    return nlohmann::json{{"value", s.value},
                          {"id", url() + "/secrets/" + name + "/v" + std::to_string(s.version)},
                          {"attributes", {{"enabled", true}, {"recoveryLevel", "Recoverable+Purgeable"}}},
                          {"tags", s.tags}};
  };
  const std::string name = "([0-9a-zA-Z-]{1,127})";

  front_.server().Get("/secrets/" + name,
                      [this, admit, bundle](const httplib::Request& req, httplib::Response& res) {
                        if (!admit(req, res)) return;
                        std::lock_guard<std::mutex> lock(mu_);
                        auto it = live_.find(Lower(req.matches[1].str()));
                        if (it == live_.end())
                          return Error(res, 404, "SecretNotFound", "A secret with (name/id) was not found");
                        Reply(res, 200, bundle(it->first, it->second));
                      });
  front_.server().Put("/secrets/" + name, [this, admit, bundle](const httplib::Request& req,
                                                                httplib::Response& res) {
    if (!admit(req, res)) return;
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("value") || !body["value"].is_string())
      return Error(res, 400, "BadParameter", "the request body needs a string value");
    std::lock_guard<std::mutex> lock(mu_);
    const std::string key = Lower(req.matches[1].str());
    if (deleted_.count(key))
      return Error(res, 409, "Conflict",
                   "Secret " + key +
                       " is currently in a deleted but recoverable state (ObjectIsDeletedButRecoverable)");
    Secret s;
    s.value = body["value"].get<std::string>();
    if (body.contains("tags") && body["tags"].is_object())
      for (const auto& [k, v] : body["tags"].items())
        if (v.is_string()) s.tags[k] = v.get<std::string>();
    s.version = ++versions_;
    live_[key] = s;
    Reply(res, 200, bundle(key, s));
  });
  front_.server().Delete(
      "/secrets/" + name, [this, admit](const httplib::Request& req, httplib::Response& res) {
        if (!admit(req, res)) return;
        std::lock_guard<std::mutex> lock(mu_);
        const std::string key = Lower(req.matches[1].str());
        auto it = live_.find(key);
        if (it == live_.end())
          return Error(res, 404, "SecretNotFound", "A secret with (name/id) was not found");
        deleted_[key] = it->second;
        live_.erase(it);
        Reply(res, 200, {{"recoveryId", url() + "/deletedsecrets/" + key}});
      });
  front_.server().Get(
      "/deletedsecrets/" + name, [this, admit](const httplib::Request& req, httplib::Response& res) {
        if (!admit(req, res)) return;
        std::lock_guard<std::mutex> lock(mu_);
        const std::string key = Lower(req.matches[1].str());
        if (!deleted_.count(key)) return Error(res, 404, "SecretNotFound", "Deleted secret not found");
        Reply(res, 200, {{"recoveryId", url() + "/deletedsecrets/" + key}, {"tags", deleted_[key].tags}});
      });
  front_.server().Post("/deletedsecrets/" + name + "/recover",
                       [this, admit, bundle](const httplib::Request& req, httplib::Response& res) {
                         if (!admit(req, res)) return;
                         std::lock_guard<std::mutex> lock(mu_);
                         const std::string key = Lower(req.matches[1].str());
                         auto it = deleted_.find(key);
                         if (it == deleted_.end())
                           return Error(res, 404, "SecretNotFound", "Deleted secret not found");
                         live_[key] = it->second;
                         deleted_.erase(it);
                         Reply(res, 200, bundle(key, live_[key]));
                       });
  front_.server().Delete("/deletedsecrets/" + name,
                         [this, admit](const httplib::Request& req, httplib::Response& res) {
                           if (!admit(req, res)) return;
                           std::lock_guard<std::mutex> lock(mu_);
                           if (!deleted_.erase(Lower(req.matches[1].str())))
                             return Error(res, 404, "SecretNotFound", "Deleted secret not found");
                           res.status = 204;
                         });

  // One request per connection: an idle keep-alive connection of the client's pool would hold the
  // destructor until httplib's keep-alive timeout (5 s).
  front_.server().set_keep_alive_max_count(1);
  front_.Start();
}

FakeAzureKeyVaultServer::~FakeAzureKeyVaultServer() = default;

std::optional<FakeAzureKeyVaultServer::Secret> FakeAzureKeyVaultServer::Live(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(Lower(name));
  if (it == live_.end()) return std::nullopt;
  return it->second;
}

bool FakeAzureKeyVaultServer::Deleted(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  return deleted_.count(Lower(name)) > 0;
}

void FakeAzureKeyVaultServer::SetLive(const std::string& name, Secret secret) {
  std::lock_guard<std::mutex> lock(mu_);
  secret.version = ++versions_;
  live_[Lower(name)] = std::move(secret);
}

void FakeAzureKeyVaultServer::SoftDelete(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(Lower(name));
  if (it == live_.end()) return;
  deleted_[it->first] = it->second;
  live_.erase(it);
}

std::vector<std::string> FakeAzureKeyVaultServer::LiveNames() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  for (const auto& [k, v] : live_) names.push_back(k);
  return names;
}

int FakeAzureKeyVaultServer::writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}

}  // namespace matih::testing
