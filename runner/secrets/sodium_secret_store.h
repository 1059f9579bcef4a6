// SodiumSecretStore: the built-in SecretStore, encrypted with libsodium and kept in PostgreSQL.
//
// Envelope encryption (secrets/envelope.h): each tenant has a random data key, stored wrapped by
// the store's master key in matih.tenant_data_keys (migration 0003_secret_envelope); its values
// are sealed with XChaCha20-Poly1305 under the data key, a fresh random nonce each, and the tenant
// id and the secret's name as associated data, so a ciphertext copied to another row fails to open
// instead of answering the wrong secret. The first Put of a tenant creates its data key; deleting
// the tenant's last secret (or DeleteAll) destroys it in the same transaction (crypto-shredding).
// Rows written before envelope encryption (sealed by the master key itself, matih.tenant_secrets
// of migration 0002_secrets) stay readable and are re-sealed under the data key when next written;
// `matih-provisioner secrets rotate-key` (secrets/key_rotation.h) migrates those left over.
// Plaintext and key material never reach the database, a log line or an error message;
// decrypted buffers are wiped.
//
// The *Fenced writes lock the tenant's row in matih.tenants FOR SHARE and check its lease owner
// and epoch in the write's own transaction: a lease taken over is Aborted ("lease lost"), and a
// takeover cannot commit while a fenced write holds the row.
//
// Owns one database connection, opened on first use and reopened after it breaks.
// Safe to call from any thread: calls are serialised by a mutex.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <pqxx/transaction>
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
  Status PutFenced(const LeaseFence& fence, const std::string& tenant_id, const std::string& name,
                   std::string_view value) override;
  Status DeleteFenced(const LeaseFence& fence, const std::string& tenant_id,
                      const std::string& name) override;
  Status DeleteAllFenced(const LeaseFence& fence, const std::string& tenant_id) override;

 private:
  // The writes; `fence` null: unfenced (an operator's).
  Status DoPut(const LeaseFence* fence, const std::string& tenant_id, const std::string& name,
               std::string_view value);
  Status DoDelete(const LeaseFence* fence, const std::string& tenant_id, const std::string& name);
  Status DoDeleteAll(const LeaseFence* fence, const std::string& tenant_id);
  // Runs `body` in one transaction after the fence check, commits, and turns what went wrong
  // into a Status whose message starts with `what`. Takes mu_.
  Status FencedWrite(const LeaseFence* fence, const std::string& tenant_id, const std::string& what,
                     const std::function<void(pqxx::work&)>& body);

  // REQUIRES: mu_ held. Opens the connection when there is none.
  pqxx::connection& Connection();

  const std::string database_url_;
  const SecretKey key_;
  std::mutex mu_;
  std::unique_ptr<pqxx::connection> connection_;  // guarded by mu_
};

}  // namespace matih::runner
