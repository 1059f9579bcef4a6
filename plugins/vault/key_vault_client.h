// KeyVaultClient: the data-plane REST API of Azure Key Vault secrets (api-version 7.4), what the
// vault plugin's azure-key-vault backend speaks:
//   GET    {vault}/secrets/{name}                    the current version (value, tags), or 404
//   PUT    {vault}/secrets/{name}                    sets a new version {"value", "tags"}; 409
//                                                    when a deleted-but-recoverable one exists
//   DELETE {vault}/secrets/{name}                    soft-deletes every version (404 when absent)
//   GET    {vault}/deletedsecrets/{name}             the soft-deleted secret, or 404
//   POST   {vault}/deletedsecrets/{name}/recover     undeletes it
//   DELETE {vault}/deletedsecrets/{name}             purges it for good
// with `Authorization: Bearer <token>`. Errors name the vault and what was asked, never a value or
// the token: unreachable, 429 or 5xx -> TransientError; 401/403 -> PermanentError (refused
// credentials); other unexpected answers -> PermanentError.
//
// One client per step call; not shared between threads (the underlying HttpClient pools
// connections per plugin and process).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "common/http_client.h"

namespace matih::plugins::vault {

struct KeyVaultSecret {
  std::string value;
  std::map<std::string, std::string> tags;
};

class KeyVaultClient {
 public:
  // `vault_url`: https://<vault>.vault.azure.net (tests: the fake's http URL).
  KeyVaultClient(std::string vault_url, std::string token, std::chrono::milliseconds timeout);

  std::optional<KeyVaultSecret> Get(const std::string& name) const;
  // Returns the HTTP status: 200, or 409 when the name is deleted but recoverable.
  long Set(const std::string& name, const KeyVaultSecret& secret) const;
  // false when it did not exist.
  bool Delete(const std::string& name) const;
  bool IsDeleted(const std::string& name) const;
  void Recover(const std::string& name) const;
  // false when nothing deleted was there.
  bool Purge(const std::string& name) const;

  const std::string& vault_url() const { return vault_url_; }

 private:
  HttpResponse Call(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& what) const;

  std::string vault_url_;
  std::string token_;
  HttpClient http_;
};

// Key Vault secret names are 1-127 characters of [0-9a-zA-Z-].
bool IsValidKeyVaultName(const std::string& name);

}  // namespace matih::plugins::vault
