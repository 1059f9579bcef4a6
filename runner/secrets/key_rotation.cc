#include "secrets/key_rotation.h"

#include <sodium.h>

#include <map>
#include <pqxx/pqxx>

#include "secrets/envelope.h"
#include "store/sql_state.h"

namespace matih::runner {
namespace {

struct Refused {
  Status status;
};

std::string Bin(const pqxx::field& f) { return pqxx::binarystring(f).str(); }
pqxx::binarystring Blob(const std::string& s) { return pqxx::binarystring(s.data(), s.size()); }

Status FromDatabaseError(const std::exception& e) {
  const std::string what = "secrets rotate-key";
  if (dynamic_cast<const pqxx::broken_connection*>(&e) || dynamic_cast<const pqxx::in_doubt_error*>(&e))
    return Unavailable(what + ": database unreachable: " + e.what());
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string state = sql->sqlstate();
    if (IsMissingSchema(state))
      return FailedPrecondition(
          what + ": the secret store's tables are missing or old: run matih-provisioner migrate first");
    if (const Code code = CodeForSqlState(state); code != Code::kInternal)
      return Status(code, what + ": " + e.what());
  }
  return Internal(what + ": " + e.what());
}

}  // namespace

Result<KeyRotationReport> RotateMasterKey(const std::string& database_url, const SecretKey& old_key,
                                          const SecretKey& new_key) {
  if (old_key.id() == new_key.id())
    return InvalidArgument("the new key is the key in use (key id " + old_key.id() + "): nothing to rotate");
  KeyRotationReport report;
  try {
    pqxx::connection conn(database_url);
    pqxx::work tx(conn);
    // Readers go on; writers (Put, Delete) wait until the rotation commits or rolls back.
    tx.exec0("LOCK TABLE matih.tenant_data_keys, matih.tenant_secrets IN EXCLUSIVE MODE");

    // 1. Every data key must be wrapped by the old key and open with it.
    std::map<std::string, DataKey> keys;  // by tenant id; wiped when they go away
    for (const auto& row :
         tx.exec("SELECT tenant_id, key_id, master_key_id, nonce, wrapped_key FROM matih.tenant_data_keys")) {
      const std::string tenant = row[0].as<std::string>();
      const std::string master_id = row[2].as<std::string>();
      if (master_id != old_key.id()) {
        throw Refused{
            FailedPrecondition("the data key of tenant " + tenant + " is wrapped by key id " + master_id +
                               ", not by the old key (key id " + old_key.id() +
                               "): give the key in use as the old key (secrets.key_file, MATIH_SECRET_KEY or "
                               "--old-key-file); nothing was changed")};
      }
      auto key = UnwrapDataKey(old_key, tenant, Bin(row[3]), Bin(row[4]));
      if (!key.ok()) throw Refused{FailedPrecondition(key.status().message() + "; nothing was changed")};
      if (key->id() != row[1].as<std::string>())
        throw Refused{FailedPrecondition("the data key row of tenant " + tenant +
                                         " is inconsistent; nothing was changed")};
      keys.emplace(tenant, std::move(key).value());
    }
    std::map<std::string, bool> created;  // tenants whose data key is made here

    // 2. Values still sealed by the old key itself move under their tenant's data key.
    for (const auto& row :
         tx.exec("SELECT tenant_id, name, key_id, nonce, ciphertext FROM matih.tenant_secrets "
                 "WHERE sealed_by = 'master' ORDER BY tenant_id, name")) {
      const std::string tenant = row[0].as<std::string>(), name = row[1].as<std::string>();
      if (row[2].as<std::string>() != old_key.id()) {
        throw Refused{FailedPrecondition(
            "secret '" + name + "' of tenant " + tenant + " is sealed by key id " + row[2].as<std::string>() +
            ", not by the old key (key id " + old_key.id() + "); nothing was changed")};
      }
      std::string plain;
      if (!OpenLegacy(old_key, tenant, name, Sealed{Bin(row[3]), Bin(row[4])}, &plain)) {
        throw Refused{
            FailedPrecondition("secret '" + name + "' of tenant " + tenant +
                               " does not open with the old key (tampered with?); nothing was changed")};
      }
      auto it = keys.find(tenant);
      if (it == keys.end()) {
        it = keys.emplace(tenant, DataKey::Generate()).first;
        created[tenant] = true;
      }
      Sealed sealed = SealValue(it->second, tenant, name, plain);
      sodium_memzero(plain.data(), plain.size());
      tx.exec_params(
          "UPDATE matih.tenant_secrets SET key_id = $3, nonce = $4, ciphertext = $5, sealed_by = 'data-key' "
          "WHERE tenant_id = $1 AND name = $2",
          tenant, name, it->second.id(), Blob(sealed.nonce), Blob(sealed.ciphertext));
      ++report.legacy_values_migrated;
    }

    // 3. Every data key, wrapped by the new key.
    for (const auto& [tenant, key] : keys) {
      Sealed wrapped = WrapDataKey(new_key, tenant, key);
      if (created.count(tenant)) {
        tx.exec_params(
            "INSERT INTO matih.tenant_data_keys (tenant_id, key_id, master_key_id, nonce, wrapped_key) "
            "VALUES ($1, $2, $3, $4, $5)",
            tenant, key.id(), new_key.id(), Blob(wrapped.nonce), Blob(wrapped.ciphertext));
        ++report.data_keys_created;
      } else {
        tx.exec_params(
            "UPDATE matih.tenant_data_keys SET master_key_id = $2, nonce = $3, wrapped_key = $4, "
            "rewrapped_at = now() WHERE tenant_id = $1",
            tenant, new_key.id(), Blob(wrapped.nonce), Blob(wrapped.ciphertext));
      }
      ++report.data_keys_rewrapped;
    }
    tx.commit();
  } catch (const Refused& r) {
    return r.status;
  } catch (const std::exception& e) {
    return FromDatabaseError(e);
  }
  return report;
}

}  // namespace matih::runner
