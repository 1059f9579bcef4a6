#include "vector/chroma_client.h"

#include <matih/step.hpp>
#include <thread>

namespace matih::plugins::vector {
namespace {

std::string Seg(const std::string& s) { return HttpClient::Escape(s); }

std::string TenantPath(const std::string& tenant) { return "/api/v2/tenants/" + Seg(tenant); }
std::string DatabasePath(const std::string& tenant, const std::string& database) {
  return TenantPath(tenant) + "/databases/" + Seg(database);
}

}  // namespace

ChromaClient::ChromaClient(std::string base_url, std::chrono::milliseconds timeout, std::string what_for)
    : base_url_(std::move(base_url)), what_for_(std::move(what_for)), http_(TlsOptions{}, timeout) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  if (base_url_.rfind("http://", 0) != 0 && base_url_.rfind("https://", 0) != 0)
    throw InvalidArgument("setting targets.vector.chroma_url must be an http(s) URL");
}

HttpResponse ChromaClient::Send(const std::string& method, const std::string& path,
                                const std::string& body) const {
  HttpRequest request;
  request.method = method;
  request.url = base_url_ + path;
  request.headers = {"Accept: application/json"};
  if (!body.empty() || method == "POST" || method == "PUT")
    request.headers.push_back("Content-Type: application/json");
  request.body = body;
  // A single-node Chroma keeps its catalog in SQLite and answers 500 "database is locked" while
  // another writer holds the lock (seen with a few concurrent database deletes). The statement did
  // not run, so a short wait and the same request again is safe; after kLockedTries the 500 is
  // returned and reported as transient.
  constexpr int kLockedTries = 6;
  std::chrono::milliseconds wait(20);
  for (int attempt = 1;; ++attempt, wait *= 2) {
    HttpResponse r;
    try {
      r = http_.Send(request);
    } catch (const TransientError& e) {
      throw TransientError("Chroma at " + base_url_ + " (" + what_for_ + ") is unreachable: " + e.what());
    }
    if (attempt == kLockedTries || r.status != 500 || r.body.find("database is locked") == std::string::npos)
      return r;
    std::this_thread::sleep_for(wait);
  }
}

void ChromaClient::Fail(const std::string& action, const HttpResponse& r) const {
  std::string detail;
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (body.is_object() && body.contains("message") && body["message"].is_string())
    detail = body["message"].get<std::string>().substr(0, 200);
  const std::string message = "Chroma at " + base_url_ + " (" + what_for_ + "): " + action +
                              " answered HTTP " + std::to_string(r.status) +
                              (detail.empty() ? "" : ": " + detail);
  if (IsTransientHttpStatus(r.status)) throw TransientError(message);
  if (r.status == 401 || r.status == 403) throw PermanentError(message, MATIH_STATUS_PERMISSION_DENIED);
  throw PermanentError(message);
}

Collection ChromaClient::ToCollection(const nlohmann::json& j) {
  Collection c;
  if (!j.is_object()) throw PermanentError("Chroma answered a collection that is not a JSON object");
  c.id = j.value("id", "");
  c.name = j.value("name", "");
  if (j.contains("metadata") && j["metadata"].is_object()) c.metadata = j["metadata"];
  const auto& config = j.contains("configuration_json") ? j["configuration_json"] : nlohmann::json();
  if (config.is_object() && config.contains("hnsw") && config["hnsw"].is_object() &&
      config["hnsw"].contains("space") && config["hnsw"]["space"].is_string())
    c.space = config["hnsw"]["space"];
  return c;
}

bool ChromaClient::TenantExists(const std::string& tenant) const {
  auto r = Send("GET", TenantPath(tenant));
  if (r.status == 200) return true;
  if (r.status == 404) return false;
  Fail("get tenant " + tenant, r);
}

bool ChromaClient::CreateTenant(const std::string& tenant) const {
  auto r = Send("POST", "/api/v2/tenants", nlohmann::json{{"name", tenant}}.dump());
  if (r.status == 200 || r.status == 201) return true;
  if (r.status == 409) return false;
  Fail("create tenant " + tenant, r);
}

std::optional<std::string> ChromaClient::DatabaseId(const std::string& tenant,
                                                    const std::string& database) const {
  auto r = Send("GET", DatabasePath(tenant, database));
  if (r.status == 404) return std::nullopt;
  if (r.status != 200) Fail("get database " + tenant + "/" + database, r);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object()) throw PermanentError("Chroma answered a database that is not a JSON object");
  return j.value("id", "");
}

bool ChromaClient::CreateDatabase(const std::string& tenant, const std::string& database) const {
  auto r = Send("POST", TenantPath(tenant) + "/databases", nlohmann::json{{"name", database}}.dump());
  if (r.status == 200 || r.status == 201) return true;
  if (r.status == 409) return false;
  Fail("create database " + tenant + "/" + database, r);
}

bool ChromaClient::DeleteDatabase(const std::string& tenant, const std::string& database) const {
  auto r = Send("DELETE", DatabasePath(tenant, database));
  if (r.status == 200 || r.status == 204) return true;
  if (r.status == 404) return false;
  Fail("delete database " + tenant + "/" + database, r);
}

std::vector<Collection> ChromaClient::ListCollections(const std::string& tenant,
                                                      const std::string& database) const {
  std::vector<Collection> out;
  constexpr int kPage = 100;
  for (int offset = 0;; offset += kPage) {
    auto r = Send("GET", DatabasePath(tenant, database) + "/collections?limit=" + std::to_string(kPage) +
                             "&offset=" + std::to_string(offset));
    if (r.status == 404) return out;
    if (r.status != 200) Fail("list collections of " + tenant + "/" + database, r);
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_array()) throw PermanentError("Chroma answered a collection list that is not a JSON array");
    for (const auto& c : j) out.push_back(ToCollection(c));
    if (j.size() < static_cast<size_t>(kPage)) return out;
  }
}

std::optional<Collection> ChromaClient::GetCollection(const std::string& tenant, const std::string& database,
                                                      const std::string& name) const {
  auto r = Send("GET", DatabasePath(tenant, database) + "/collections/" + Seg(name));
  if (r.status == 404) return std::nullopt;
  if (r.status != 200) Fail("get collection " + name + " of " + tenant + "/" + database, r);
  return ToCollection(nlohmann::json::parse(r.body, nullptr, false));
}

std::optional<Collection> ChromaClient::CreateCollection(const std::string& tenant,
                                                         const std::string& database, const std::string& name,
                                                         const nlohmann::json& metadata) const {
  auto r = Send("POST", DatabasePath(tenant, database) + "/collections",
                nlohmann::json{{"name", name}, {"metadata", metadata}}.dump());
  if (r.status == 409) return std::nullopt;
  if (r.status != 200 && r.status != 201)
    Fail("create collection " + name + " in " + tenant + "/" + database, r);
  return ToCollection(nlohmann::json::parse(r.body, nullptr, false));
}

void ChromaClient::SetCollectionMetadata(const std::string& tenant, const std::string& database,
                                         const std::string& id, const nlohmann::json& metadata) const {
  auto r = Send("PUT", DatabasePath(tenant, database) + "/collections/" + Seg(id),
                nlohmann::json{{"new_metadata", metadata}}.dump());
  if (r.status != 200) Fail("update collection " + id + " of " + tenant + "/" + database, r);
}

bool ChromaClient::DeleteCollection(const std::string& tenant, const std::string& database,
                                    const std::string& name) const {
  auto r = Send("DELETE", DatabasePath(tenant, database) + "/collections/" + Seg(name));
  if (r.status == 200 || r.status == 204) return true;
  if (r.status == 404) return false;
  Fail("delete collection " + name + " of " + tenant + "/" + database, r);
}

long long ChromaClient::Count(const std::string& tenant, const std::string& database,
                              const std::string& id) const {
  auto r = Send("GET", DatabasePath(tenant, database) + "/collections/" + Seg(id) + "/count");
  if (r.status != 200) Fail("count collection " + id + " of " + tenant + "/" + database, r);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_number_integer()) throw PermanentError("Chroma answered a count that is not a number");
  return j.get<long long>();
}

}  // namespace matih::plugins::vector
