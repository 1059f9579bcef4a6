// ChromaClient: the calls step 23 makes on a Chroma server's REST API (/api/v2): tenants,
// databases and collections.
//
// Chroma's own rules, which callers rely on: creating a tenant, database or collection that exists
// answers 409; a tenant cannot be deleted (405), a database can (with its collections); a
// collection's metadata is replaced as a whole on update. Errors, each naming the server and
// `what_for`: unreachable, 5xx, 408, 429 -> TransientError; 401/403 -> PERMISSION_DENIED;
// anything else unexpected -> PermanentError with Chroma's message. 404 and 409 are answers.
// SQLite's "database is locked" (500) is asked again up to five times, 20 ms to 320 ms apart.
//
// Cheap to construct; one client per step call, used from the calling thread only.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/http_client.h"

namespace matih::plugins::vector {

struct Collection {
  std::string id;
  std::string name;
  nlohmann::json metadata = nlohmann::json::object();
  std::string space;  // configuration_json.hnsw.space: l2, ip or cosine ("" when unknown)
};

class ChromaClient {
 public:
  ChromaClient(std::string base_url, std::chrono::milliseconds timeout, std::string what_for);

  const std::string& base_url() const { return base_url_; }

  bool TenantExists(const std::string& tenant) const;
  // false when it already existed.
  bool CreateTenant(const std::string& tenant) const;
  // The database's id, or nullopt when it does not exist.
  std::optional<std::string> DatabaseId(const std::string& tenant, const std::string& database) const;
  bool CreateDatabase(const std::string& tenant, const std::string& database) const;
  // false when it did not exist.
  bool DeleteDatabase(const std::string& tenant, const std::string& database) const;

  std::vector<Collection> ListCollections(const std::string& tenant, const std::string& database) const;
  std::optional<Collection> GetCollection(const std::string& tenant, const std::string& database,
                                          const std::string& name) const;
  // Creates a collection; nullopt when it already existed (409).
  std::optional<Collection> CreateCollection(const std::string& tenant, const std::string& database,
                                             const std::string& name, const nlohmann::json& metadata) const;
  // Replaces the collection's whole metadata.
  void SetCollectionMetadata(const std::string& tenant, const std::string& database, const std::string& id,
                             const nlohmann::json& metadata) const;
  bool DeleteCollection(const std::string& tenant, const std::string& database,
                        const std::string& name) const;
  // Number of records: a data-plane read that proves the collection serves requests.
  long long Count(const std::string& tenant, const std::string& database, const std::string& id) const;

 private:
  HttpResponse Send(const std::string& method, const std::string& path, const std::string& body = "") const;
  [[noreturn]] void Fail(const std::string& action, const HttpResponse& response) const;
  static Collection ToCollection(const nlohmann::json& j);

  std::string base_url_;
  std::string what_for_;
  HttpClient http_;
};

}  // namespace matih::plugins::vector
