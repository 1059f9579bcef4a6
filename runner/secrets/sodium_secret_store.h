// SodiumSecretStore: the built-in SecretStore, encrypted with libsodium and kept in PostgreSQL.
//
// Each value is sealed with XChaCha20-Poly1305 (IETF AEAD) under the store's key and a fresh
// random 24-byte nonce, with the tenant id and the secret's name as associated data: a
// ciphertext copied to another tenant's or another name's row fails to open instead of
// answering the wrong secret. Rows live in matih.tenant_secrets (migration 0002_secrets), which
// does not depend on any other table, so the store can be used on its own. Plaintext never
// reaches the database, a log line or an error message; decrypted buffers are wiped.
//
// Owns one database connection, opened on first use and reopened after it breaks.
// Safe to call from any thread: calls are serialised by a mutex.
#pragma once

#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <string>
#include <string_view>

#include "common/status.h"
#include "secrets/secret_key.h"
#include "secrets/secret_store.h"

namespace matih::runner {

class SodiumSecretStore final : public SecretStore {
 public:
  SodiumSecretStore(std::string database_url, SecretKey key);
  ~SodiumSecretStore() override;

  Status Put(const std::string& tenant_id, const std::string& name, std::string_view value) override;
  Result<std::string> Get(const std::string& tenant_id, const std::string& name) override;
  Status Delete(const std::string& tenant_id, const std::string& name) override;
  Status DeleteAll(const std::string& tenant_id) override;

 private:
  // REQUIRES: mu_ held. Opens the connection when there is none.
  pqxx::connection& Connection();

  const std::string database_url_;
  const SecretKey key_;
  std::mutex mu_;
  std::unique_ptr<pqxx::connection> connection_;  // guarded by mu_
};

}  // namespace matih::runner
