#include "secrets/sodium_secret_store.h"

#include <sodium.h>

#include <cctype>
#include <optional>
#include <pqxx/pqxx>
#include <utility>

#include "secrets/envelope.h"
#include "store/sql_state.h"

namespace matih::runner {
namespace {

// Values are small (tokens, keys, passwords); a bound keeps a runaway plugin from filling the
// table and keeps sizes well inside what the AEAD accepts.
constexpr std::size_t kMaxValueSize = 64 * 1024;
constexpr std::size_t kMaxNameSize = 256;

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
    if (IsMissingSchema(state)) {
      return FailedPrecondition(what +
                                ": the secret store's tables are missing or old; apply the migrations "
                                "(0002_secrets, 0003_secret_envelope): matih-provisioner migrate");
    }
    if (const Code code = CodeForSqlState(state); code != Code::kInternal)
      return Status(code, what + ": " + e.what());
  }
  return Internal(what + ": " + e.what());
}

// A Status raised inside a transaction, carried out of it by exception so the transaction rolls back.
struct StoreFailure {
  Status status;
};

std::string Bin(const pqxx::field& f) { return pqxx::binarystring(f).str(); }
pqxx::binarystring Blob(const std::string& s) { return pqxx::binarystring(s.data(), s.size()); }

Status OtherKey(const std::string& what, const std::string& found, const std::string& mine) {
  return FailedPrecondition(what + ": it was encrypted with another key (key id " + found +
                            ", this runner's key id " + mine + ")");
}

// With a fence: locks the tenant's row FOR SHARE until `tx` ends and refuses the write unless
// the row still carries the fence's lease. Called first in a write's transaction, so a lease taken
// over changes nothing and no takeover commits under the write.
void CheckFence(pqxx::work& tx, const LeaseFence* fence, const std::string& tenant_id,
                const std::string& what) {
  if (fence == nullptr) return;
  // Tenant ids are UUIDs; anything else holds no lease (and must not reach the cast).
  bool uuid = tenant_id.size() == 36;
  for (std::size_t i = 0; uuid && i < tenant_id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    uuid = dash ? tenant_id[i] == '-' : std::isxdigit(static_cast<unsigned char>(tenant_id[i])) != 0;
  }
  if (!uuid) throw StoreFailure{Aborted(what + ": lease lost: no tenant has this id, so no lease on it")};
  pqxx::result rows = tx.exec_params(
      "SELECT 1 FROM matih.tenants WHERE id = $1::uuid AND lease_owner = $2 AND lease_epoch = $3 FOR SHARE",
      tenant_id, fence->owner, fence->epoch);
  if (rows.empty()) {
    throw StoreFailure{Aborted(what + ": lease lost: the lease of " + fence->owner + " (epoch " +
                               std::to_string(fence->epoch) + ") on the tenant is no longer current")};
  }
}

// The tenant's data key, unwrapped, with its row locked FOR SHARE until `tx` ends (so the key
// cannot be destroyed or re-wrapped under the caller). Creates it when absent.
DataKey DataKeyForWrite(pqxx::work& tx, const SecretKey& master, const std::string& tenant_id,
                        const std::string& what) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    pqxx::result rows = tx.exec_params(
        "SELECT key_id, master_key_id, nonce, wrapped_key FROM matih.tenant_data_keys "
        "WHERE tenant_id = $1 FOR SHARE",
        tenant_id);
    if (!rows.empty()) {
      const std::string master_id = rows[0][1].as<std::string>();
      if (master_id != master.id()) throw StoreFailure{OtherKey(what, master_id, master.id())};
      auto key = UnwrapDataKey(master, tenant_id, Bin(rows[0][2]), Bin(rows[0][3]));
      if (!key.ok()) throw StoreFailure{FailedPrecondition(what + ": " + key.status().message())};
      if (key->id() != rows[0][0].as<std::string>())
        throw StoreFailure{Internal(what + ": the tenant's data key row is inconsistent")};
      return std::move(key).value();
    }
    // None yet: make one. A concurrent writer may win the insert; the next read takes theirs.
    DataKey fresh = DataKey::Generate();
    Sealed wrapped = WrapDataKey(master, tenant_id, fresh);
    tx.exec_params(
        "INSERT INTO matih.tenant_data_keys (tenant_id, key_id, master_key_id, nonce, wrapped_key) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO NOTHING",
        tenant_id, fresh.id(), master.id(), Blob(wrapped.nonce), Blob(wrapped.ciphertext));
  }
  throw StoreFailure{Aborted(what + ": the tenant's data key kept changing; try again")};
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
  return DoPut(nullptr, tenant_id, name, value);
}

Status SodiumSecretStore::PutFenced(const LeaseFence& fence, const std::string& tenant_id,
                                    const std::string& name, std::string_view value) {
  return DoPut(&fence, tenant_id, name, value);
}

Status SodiumSecretStore::Delete(const std::string& tenant_id, const std::string& name) {
  return DoDelete(nullptr, tenant_id, name);
}

Status SodiumSecretStore::DeleteFenced(const LeaseFence& fence, const std::string& tenant_id,
                                       const std::string& name) {
  return DoDelete(&fence, tenant_id, name);
}

Status SodiumSecretStore::DeleteAll(const std::string& tenant_id) { return DoDeleteAll(nullptr, tenant_id); }

Status SodiumSecretStore::DeleteAllFenced(const LeaseFence& fence, const std::string& tenant_id) {
  return DoDeleteAll(&fence, tenant_id);
}

Status SodiumSecretStore::DoPut(const LeaseFence* fence, const std::string& tenant_id,
                                const std::string& name, std::string_view value) {
  if (Status s = CheckNames(tenant_id, name); !s.ok()) return s;
  if (value.size() > kMaxValueSize) {
    return InvalidArgument("secret store: secret '" + name + "' is larger than 64 KiB");
  }
  const std::string what = "secret store: cannot store secret '" + name + "' of tenant " + tenant_id;
  return FencedWrite(fence, tenant_id, what, [&](pqxx::work& tx) {
    DataKey key = DataKeyForWrite(tx, key_, tenant_id, what);
    Sealed sealed = SealValue(key, tenant_id, name, value);
    tx.exec_params(
        "INSERT INTO matih.tenant_secrets (tenant_id, name, key_id, nonce, ciphertext, sealed_by, "
        "updated_at) "
        "VALUES ($1, $2, $3, $4, $5, 'data-key', now()) "
        "ON CONFLICT (tenant_id, name) DO UPDATE SET key_id = EXCLUDED.key_id, nonce = EXCLUDED.nonce, "
        "ciphertext = EXCLUDED.ciphertext, sealed_by = 'data-key', updated_at = now()",
        tenant_id, name, key.id(), Blob(sealed.nonce), Blob(sealed.ciphertext));
  });
}

Result<std::string> SodiumSecretStore::Get(const std::string& tenant_id, const std::string& name) {
  if (Status s = CheckNames(tenant_id, name); !s.ok()) return s;
  const std::string what = "secret store: cannot read secret '" + name + "' of tenant " + tenant_id;
  std::string key_id, sealed_by;
  Sealed sealed;
  std::optional<std::string> data_key_id, master_id;
  std::string wrapped_nonce, wrapped_key;
  {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      // One statement, one round trip: the value and its tenant's wrapped data key.
      pqxx::nontransaction tx(Connection());
      pqxx::result rows = tx.exec_params(
          "SELECT s.key_id, s.nonce, s.ciphertext, s.sealed_by, d.key_id, d.master_key_id, d.nonce, "
          "d.wrapped_key FROM matih.tenant_secrets s "
          "LEFT JOIN matih.tenant_data_keys d ON d.tenant_id = s.tenant_id "
          "WHERE s.tenant_id = $1 AND s.name = $2",
          tenant_id, name);
      if (rows.empty()) return NotFound("secret '" + name + "' of tenant " + tenant_id + " does not exist");
      const auto& row = rows[0];
      key_id = row[0].as<std::string>();
      sealed = Sealed{Bin(row[1]), Bin(row[2])};
      sealed_by = row[3].as<std::string>();
      if (!row[4].is_null()) {
        data_key_id = row[4].as<std::string>();
        master_id = row[5].as<std::string>();
        wrapped_nonce = Bin(row[6]);
        wrapped_key = Bin(row[7]);
      }
    } catch (const pqxx::broken_connection& e) {
      connection_.reset();
      return FromDatabaseError(what, e);
    } catch (const std::exception& e) {
      return FromDatabaseError(what, e);
    }
  }

  std::string plain;
  if (sealed_by == "master") {  // written before envelope encryption
    if (key_id != key_.id()) return OtherKey(what, key_id, key_.id());
    if (!OpenLegacy(key_, tenant_id, name, sealed, &plain))
      return Internal(what +
                      ": the ciphertext does not authenticate (tampered with, or moved from another row)");
    return plain;
  }
  if (!data_key_id)
    return Internal(what + ": the tenant's data key is gone (destroyed), so the value is lost");
  if (*master_id != key_.id()) return OtherKey(what, *master_id, key_.id());
  auto key = UnwrapDataKey(key_, tenant_id, wrapped_nonce, wrapped_key);
  if (!key.ok()) return FailedPrecondition(what + ": " + key.status().message());
  if (key->id() != key_id) {
    return Internal(what + ": it was sealed with another data key (key id " + key_id + ", the tenant's is " +
                    key->id() + ")");
  }
  if (!OpenValue(*key, tenant_id, name, sealed, &plain))
    return Internal(what +
                    ": the ciphertext does not authenticate (tampered with, or moved from another row)");
  return plain;
}

Status SodiumSecretStore::DoDelete(const LeaseFence* fence, const std::string& tenant_id,
                                   const std::string& name) {
  if (Status s = CheckNames(tenant_id, name); !s.ok()) return s;
  const std::string what = "secret store: cannot delete secret '" + name + "' of tenant " + tenant_id;
  return FencedWrite(fence, tenant_id, what, [&](pqxx::work& tx) {
    // Lock the data key first: a concurrent Put holds it FOR SHARE while it writes, so the key is
    // never destroyed under a value being sealed with it.
    tx.exec_params("SELECT 1 FROM matih.tenant_data_keys WHERE tenant_id = $1 FOR UPDATE", tenant_id);
    tx.exec_params("DELETE FROM matih.tenant_secrets WHERE tenant_id = $1 AND name = $2", tenant_id, name);
    // The tenant's last secret is gone: destroy its data key (crypto-shredding).
    tx.exec_params(
        "DELETE FROM matih.tenant_data_keys WHERE tenant_id = $1 "
        "AND NOT EXISTS (SELECT 1 FROM matih.tenant_secrets WHERE tenant_id = $1)",
        tenant_id);
  });
}

Status SodiumSecretStore::DoDeleteAll(const LeaseFence* fence, const std::string& tenant_id) {
  if (tenant_id.empty()) return InvalidArgument("secret store: empty tenant id");
  const std::string what = "secret store: cannot delete the secrets of tenant " + tenant_id;
  return FencedWrite(fence, tenant_id, what, [&](pqxx::work& tx) {
    tx.exec_params("SELECT 1 FROM matih.tenant_data_keys WHERE tenant_id = $1 FOR UPDATE", tenant_id);
    tx.exec_params("DELETE FROM matih.tenant_secrets WHERE tenant_id = $1", tenant_id);
    tx.exec_params("DELETE FROM matih.tenant_data_keys WHERE tenant_id = $1", tenant_id);
  });
}

Status SodiumSecretStore::FencedWrite(const LeaseFence* fence, const std::string& tenant_id,
                                      const std::string& what, const std::function<void(pqxx::work&)>& body) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    pqxx::work tx(Connection());
    CheckFence(tx, fence, tenant_id, what);
    body(tx);
    tx.commit();
  } catch (const StoreFailure& f) {
    return f.status;
  } catch (const pqxx::broken_connection& e) {
    connection_.reset();
    return FromDatabaseError(what, e);
  } catch (const std::exception& e) {
    return FromDatabaseError(what, e);
  }
  return Status::Ok();
}

}  // namespace matih::runner
