// BlobClient: the calls steps 14 and 15 make on one storage account's Blob REST API (Azure
// Storage, or Azurite locally), authorised with SharedKey (shared_key.h).
//
// The endpoint is a template with `{account}`: "https://{account}.blob.core.windows.net" in Azure,
// "http://127.0.0.1:10000/{account}" for Azurite's path-style URLs. Errors, each naming the
// account and `what_for` (the step): unreachable, 5xx, 408, 429 -> TransientError; 412 (the
// container changed under a read-merge-write) -> ABORTED, also retried; 403 -> PermanentError
// PERMISSION_DENIED (a wrong key); anything else unexpected -> PermanentError with the service's
// error code. Answers a caller must interpret (404, 409) are return values.
//
// Cheap to construct; one client per step call, used from the calling thread only.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "storage/shared_key.h"

namespace matih::plugins::storage {

// One stored access policy of a container (a <SignedIdentifier>). Times are ISO 8601 UTC.
struct AccessPolicy {
  std::string id;
  std::string start;
  std::string expiry;
  std::string permission;
};

struct ContainerInfo {
  std::string name;
  std::map<std::string, std::string> metadata;  // names lower-cased, without x-ms-meta-
  std::string etag;
  std::string last_modified;
  std::string public_access;  // "" (private), "blob" or "container"
};

struct ContainerAcl {
  std::vector<AccessPolicy> policies;
  std::string public_access;
  std::string last_modified;  // of the container, for If-Unmodified-Since on the write
};

class BlobClient {
 public:
  BlobClient(std::string endpoint_template, AccountKey key, std::chrono::milliseconds timeout,
             std::string what_for);

  const std::string& account() const { return key_.account; }
  // The account's Blob endpoint, e.g. http://127.0.0.1:10000/acct (no trailing slash).
  const std::string& account_url() const { return account_url_; }

  // Lists one container: succeeds when the account answers and accepts the key.
  void CheckAccess() const;
  // Containers whose names start with `prefix`, with their metadata (all pages).
  std::vector<ContainerInfo> ListContainers(const std::string& prefix) const;
  // Properties and metadata, or nullopt when the container does not exist.
  std::optional<ContainerInfo> GetContainer(const std::string& name) const;
  // Creates a private container; false when it already existed (nothing changed).
  bool CreateContainer(const std::string& name, const std::map<std::string, std::string>& metadata) const;
  // Replaces the container's whole metadata.
  void SetMetadata(const std::string& name, const std::map<std::string, std::string>& metadata) const;
  // false when the container did not exist.
  bool DeleteContainer(const std::string& name) const;
  // The container's stored access policies and public access, or nullopt when it does not exist.
  std::optional<ContainerAcl> GetAcl(const std::string& name) const;
  // Replaces the whole list of stored access policies and makes the container private. With
  // `if_unmodified_since` (a Last-Modified value) the service refuses (ABORTED) when the
  // container changed since it was read.
  void SetAcl(const std::string& name, const std::vector<AccessPolicy>& policies,
              const std::string& if_unmodified_since) const;
  // Lists the blobs of `container` with a SAS token instead of the key; returns the HTTP status.
  long ListBlobsWithSas(const std::string& container, const std::string& sas_token) const;

 private:
  HttpResponse Send(const std::string& method, const std::string& container,
                    const std::map<std::string, std::string>& query, std::vector<std::string> headers,
                    const std::string& body = "") const;
  [[noreturn]] void Fail(const std::string& action, const HttpResponse& response) const;

  AccountKey key_;
  std::string account_url_;
  std::string base_path_;  // path part of account_url_, "" or "/acct"
  std::string what_for_;
  HttpClient http_;
};

// Seconds since the epoch of an ISO 8601 UTC time ("2026-01-02T03:04:05Z", fractions allowed),
// or nullopt when it cannot be read.
std::optional<long long> ParseIsoTime(const std::string& text);
// The ISO 8601 UTC form ("2026-01-02T03:04:05Z") of `unix_seconds`.
std::string IsoTime(long long unix_seconds);

}  // namespace matih::plugins::storage
