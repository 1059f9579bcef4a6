#include "fakes/fake_azure_key_vault_server.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

namespace matih::testing {
namespace {

void Reply(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void Error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
  Reply(res, status, {{"error", {{"code", code}, {"message", message}}}});
}

// Key Vault secret names are case-insensitive.
std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

FakeAzureKeyVaultServer::FakeAzureKeyVaultServer() : server_(std::make_unique<httplib::Server>()) {
  // Logs, injects failures, checks the api-version and the token; false when it answered.
  auto admit = [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(req.method + " " + req.path);
    if (req.method != "GET") ++writes_;
    if (fail_count_ > 0) {
      --fail_count_;
      Error(res, fail_status_, "InjectedFailure", "injected failure");
      return false;
    }
    if (req.get_param_value("api-version") != "7.4") {
      Error(res, 400, "BadParameter", "The api-version query parameter is missing or not supported");
      return false;
    }
    if (!token_.empty() && req.get_header_value("Authorization") != "Bearer " + token_) {
      Error(res, 401, "Unauthorized", "AKV10032: Invalid issuer or token");
      return false;
    }
    return true;
  };
  auto bundle = [this](const std::string& name, const Secret& s) {
    return nlohmann::json{{"value", s.value},
                          {"id", url() + "/secrets/" + name + "/v" + std::to_string(s.version)},
                          {"attributes", {{"enabled", true}, {"recoveryLevel", "Recoverable+Purgeable"}}},
                          {"tags", s.tags}};
  };
  const std::string name = "([0-9a-zA-Z-]{1,127})";

  server_->Get("/secrets/" + name,
               [this, admit, bundle](const httplib::Request& req, httplib::Response& res) {
                 if (!admit(req, res)) return;
                 std::lock_guard<std::mutex> lock(mu_);
                 auto it = live_.find(Lower(req.matches[1].str()));
                 if (it == live_.end())
                   return Error(res, 404, "SecretNotFound", "A secret with (name/id) was not found");
                 Reply(res, 200, bundle(it->first, it->second));
               });
  server_->Put("/secrets/" + name, [this, admit, bundle](const httplib::Request& req,
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
  server_->Delete("/secrets/" + name, [this, admit](const httplib::Request& req, httplib::Response& res) {
    if (!admit(req, res)) return;
    std::lock_guard<std::mutex> lock(mu_);
    const std::string key = Lower(req.matches[1].str());
    auto it = live_.find(key);
    if (it == live_.end()) return Error(res, 404, "SecretNotFound", "A secret with (name/id) was not found");
    deleted_[key] = it->second;
    live_.erase(it);
    Reply(res, 200, {{"recoveryId", url() + "/deletedsecrets/" + key}});
  });
  server_->Get("/deletedsecrets/" + name, [this, admit](const httplib::Request& req, httplib::Response& res) {
    if (!admit(req, res)) return;
    std::lock_guard<std::mutex> lock(mu_);
    const std::string key = Lower(req.matches[1].str());
    if (!deleted_.count(key)) return Error(res, 404, "SecretNotFound", "Deleted secret not found");
    Reply(res, 200, {{"recoveryId", url() + "/deletedsecrets/" + key}, {"tags", deleted_[key].tags}});
  });
  server_->Post("/deletedsecrets/" + name + "/recover",
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
  server_->Delete("/deletedsecrets/" + name,
                  [this, admit](const httplib::Request& req, httplib::Response& res) {
                    if (!admit(req, res)) return;
                    std::lock_guard<std::mutex> lock(mu_);
                    if (!deleted_.erase(Lower(req.matches[1].str())))
                      return Error(res, 404, "SecretNotFound", "Deleted secret not found");
                    res.status = 204;
                  });

  // One request per connection: an idle keep-alive connection of the client's pool would hold the
  // destructor until httplib's keep-alive timeout (5 s).
  server_->set_keep_alive_max_count(1);
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("FakeAzureKeyVaultServer could not bind 127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeAzureKeyVaultServer::~FakeAzureKeyVaultServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void FakeAzureKeyVaultServer::RequireBearerToken(std::string token) {
  std::lock_guard<std::mutex> lock(mu_);
  token_ = std::move(token);
}

void FakeAzureKeyVaultServer::FailNext(int status, int count) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_status_ = status;
  fail_count_ = count;
}

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

std::vector<std::string> FakeAzureKeyVaultServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

int FakeAzureKeyVaultServer::writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}

}  // namespace matih::testing
