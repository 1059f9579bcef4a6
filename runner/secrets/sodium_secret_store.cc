#include "secrets/sodium_secret_store.h"

#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <pqxx/pqxx>
#include <utility>
#include <vector>

namespace matih::runner {
namespace {

constexpr std::size_t kNonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagSize = crypto_aead_xchacha20poly1305_ietf_ABYTES;
// Values are small (tokens, keys, passwords); a bound keeps a runaway plugin from filling the
// table and keeps sizes well inside what the AEAD accepts.
constexpr std::size_t kMaxValueSize = 64 * 1024;
constexpr std::size_t kMaxNameSize = 256;

// Associated data: binds a ciphertext to its row. Length-prefixed so no two (tenant, name)
// pairs produce the same bytes.
std::vector<unsigned char> AssociatedData(const std::string& tenant_id, const std::string& name) {
  static const char kLabel[] = "matih.tenant-secret.v1";
  std::vector<unsigned char> ad(kLabel, kLabel + sizeof kLabel - 1);
  auto append = [&ad](const std::string& part) {
    auto n = static_cast<std::uint32_t>(part.size());
    for (int shift = 24; shift >= 0; shift -= 8) ad.push_back(static_cast<unsigned char>(n >> shift));
    ad.insert(ad.end(), part.begin(), part.end());
  };
  append(tenant_id);
  append(name);
  return ad;
}

Status CheckNames(const std::string& tenant_id, const std::string& name) {
  if (tenant_id.empty()) return InvalidArgument("secret store: empty tenant id");
  if (name.empty()) return InvalidArgument("secret store: empty secret name");
  if (name.size() > kMaxNameSize) return InvalidArgument("secret store: secret name longer than 256 bytes");
  return Status::Ok();
}

// What went wrong talking to PostgreSQL, as a Status. The messages come from the server or
// libpq and never hold a secret value: only ciphertext ever travels to the database.
Status FromDatabaseError(const std::string& what, const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) || dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
    return Unavailable(what + ": database unreachable: " + e.what());
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string state = sql->sqlstate();
    if (state == "42P01" || state == "3F000") {
      return FailedPrecondition(
          what + ": table matih.tenant_secrets is missing; apply the migrations (0002_secrets)");
    }
    if (state.rfind("08", 0) == 0 || state.rfind("57", 0) == 0 || state.rfind("53", 0) == 0) {
      return Unavailable(what + ": " + e.what());
    }
    if (state.rfind("40", 0) == 0) return Aborted(what + ": " + e.what());
  }
  return Internal(what + ": " + e.what());
}

}  // namespace

SodiumSecretStore::SodiumSecretStore(std::string database_url, SecretKey key)
    : database_url_(std::move(database_url)), key_(std::move(key)) {
  // A SecretKey only exists after a successful sodium_init (idempotent, thread-safe), so
  // randombytes_buf and the AEAD are ready here.
}

SodiumSecretStore::~SodiumSecretStore() = default;

pqxx::connection& SodiumSecretStore::Connection() {
  if (connection_ && !connection_->is_open()) connection_.reset();
  if (!connection_) connection_ = std::make_unique<pqxx::connection>(database_url_);
  return *connection_;
}

Status SodiumSecretStore::Put(const std::string& tenant_id, const std::string& name, std::string_view value) {
  if (Status s = CheckNames(tenant_id, name); !s.ok()) return s;
  if (value.size() > kMaxValueSize) {
    return InvalidArgument("secret store: secret '" + name + "' is larger than 64 KiB");
  }
  unsigned char nonce[kNonceSize];
  randombytes_buf(nonce, sizeof nonce);
  std::vector<unsigned char> ad = AssociatedData(tenant_id, name);
  std::vector<unsigned char> sealed(value.size() + kTagSize);
  unsigned long long sealed_size = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.data(), &sealed_size,
                                             reinterpret_cast<const unsigned char*>(value.data()),
                                             value.size(), ad.data(), ad.size(), nullptr, nonce, key_.data());
  sealed.resize(sealed_size);

  const std::string what = "secret store: cannot store secret '" + name + "' of tenant " + tenant_id;
  std::lock_guard<std::mutex> lock(mu_);
  try {
    pqxx::work tx(Connection());
    tx.exec_params(
        "INSERT INTO matih.tenant_secrets (tenant_id, name, key_id, nonce, ciphertext, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, now()) "
        "ON CONFLICT (tenant_id, name) DO UPDATE SET key_id = EXCLUDED.key_id, nonce = EXCLUDED.nonce, "
        "ciphertext = EXCLUDED.ciphertext, updated_at = now()",
        tenant_id, name, key_.id(), pqxx::binarystring(nonce, sizeof nonce),
        pqxx::binarystring(sealed.data(), sealed.size()));
    tx.commit();
  } catch (const pqxx::broken_connection& e) {
    connection_.reset();
    return FromDatabaseError(what, e);
  } catch (const std::exception& e) {
    return FromDatabaseError(what, e);
  }
  return Status::Ok();
}

Result<std::string> SodiumSecretStore::Get(const std::string& tenant_id, const std::string& name) {
  if (Status s = CheckNames(tenant_id, name); !s.ok()) return s;
  const std::string what = "secret store: cannot read secret '" + name + "' of tenant " + tenant_id;
  std::string key_id;
  std::string nonce;
  std::string sealed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      pqxx::work tx(Connection());
      pqxx::result rows = tx.exec_params(
          "SELECT key_id, nonce, ciphertext FROM matih.tenant_secrets WHERE tenant_id = $1 AND name = $2",
          tenant_id, name);
      tx.commit();
      if (rows.empty()) return NotFound("secret '" + name + "' of tenant " + tenant_id + " does not exist");
      key_id = rows[0][0].as<std::string>();
      nonce = pqxx::binarystring(rows[0][1]).str();
      sealed = pqxx::binarystring(rows[0][2]).str();
    } catch (const pqxx::broken_connection& e) {
      connection_.reset();
      return FromDatabaseError(what, e);
    } catch (const std::exception& e) {
      return FromDatabaseError(what, e);
    }
  }

  if (key_id != key_.id()) {
    return FailedPrecondition(what + ": it was encrypted with another key (key id " + key_id +
                              ", this runner's key id " + key_.id() + ")");
  }
  if (nonce.size() != kNonceSize || sealed.size() < kTagSize) {
    return Internal(what + ": the stored row is malformed");
  }
  std::vector<unsigned char> ad = AssociatedData(tenant_id, name);
  // Always on the heap (never in the small-string buffer), so moving the result out leaves no
  // copy of the plaintext behind on this stack frame.
  std::string plain;
  plain.reserve(std::max<std::size_t>(sealed.size() - kTagSize, 32));
  plain.resize(sealed.size() - kTagSize);
  unsigned long long plain_size = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &plain_size, nullptr,
          reinterpret_cast<const unsigned char*>(sealed.data()), sealed.size(), ad.data(), ad.size(),
          reinterpret_cast<const unsigned char*>(nonce.data()), key_.data()) != 0) {
    sodium_memzero(plain.data(), plain.size());
    return Internal(what +
                    ": the ciphertext does not authenticate (tampered with, or moved from another row)");
  }
  plain.resize(plain_size);
  return plain;
}

Status SodiumSecretStore::Delete(const std::string& tenant_id, const std::string& name) {
  if (Status s = CheckNames(tenant_id, name); !s.ok()) return s;
  const std::string what = "secret store: cannot delete secret '" + name + "' of tenant " + tenant_id;
  std::lock_guard<std::mutex> lock(mu_);
  try {
    pqxx::work tx(Connection());
    tx.exec_params("DELETE FROM matih.tenant_secrets WHERE tenant_id = $1 AND name = $2", tenant_id, name);
    tx.commit();
  } catch (const pqxx::broken_connection& e) {
    connection_.reset();
    return FromDatabaseError(what, e);
  } catch (const std::exception& e) {
    return FromDatabaseError(what, e);
  }
  return Status::Ok();
}

Status SodiumSecretStore::DeleteAll(const std::string& tenant_id) {
  if (tenant_id.empty()) return InvalidArgument("secret store: empty tenant id");
  const std::string what = "secret store: cannot delete the secrets of tenant " + tenant_id;
  std::lock_guard<std::mutex> lock(mu_);
  try {
    pqxx::work tx(Connection());
    tx.exec_params("DELETE FROM matih.tenant_secrets WHERE tenant_id = $1", tenant_id);
    tx.commit();
  } catch (const pqxx::broken_connection& e) {
    connection_.reset();
    return FromDatabaseError(what, e);
  } catch (const std::exception& e) {
    return FromDatabaseError(what, e);
  }
  return Status::Ok();
}

}  // namespace matih::runner
