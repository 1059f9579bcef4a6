#include "storage/account_pool.h"

#include <map>
#include <matih/step.hpp>
#include <nlohmann/json.hpp>

namespace matih::plugins::storage {
namespace {

// Two-int advisory lock key (the single-bigint space belongs to Terraform's pg backend).
constexpr int kLockClass = 0x6d617469;  // "mati"
constexpr int kSchemaLock = 14;

std::mutex& CacheMutex() {
  static std::mutex mu;
  return mu;
}
// Sessions by database URL; guarded by CacheMutex(). Never destroyed: a plugin is not unloaded
// during a run, and closing connections at exit buys nothing.
std::map<std::string, std::unique_ptr<PgSession>>& Cache() {
  static auto* cache = new std::map<std::string, std::unique_ptr<PgSession>>();
  return *cache;
}

bool SchemaExists(pqxx::work& tx) {
  return !tx.exec(
                "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'storage' AND c.relname = 'account_pool'")
              .empty();
}

}  // namespace

AccountPool::AccountPool(const std::string& database_url)
    : lock_(CacheMutex()), session_(&Cache()[database_url]) {
  if (*session_ && !(*session_)->connection().is_open()) session_->reset();
  if (!*session_) *session_ = std::make_unique<PgSession>(database_url);
}

template <typename Fn>
auto AccountPool::Transact(const std::string& what, Fn&& fn) {
  try {
    return (*session_)->Transact(what, std::forward<Fn>(fn));
  } catch (const TransientError&) {
    session_->reset();  // the connection may be broken: the next call reconnects
    throw;
  }
}

std::unique_ptr<AccountPool> AccountPool::Open(const std::string& database_url) {
  std::unique_ptr<AccountPool> pool(new AccountPool(database_url));
  pool->Transact("create the storage account pool table", [](pqxx::work& tx) {
    if (SchemaExists(tx)) return;
    tx.exec_params("SELECT pg_advisory_xact_lock($1, $2)", kLockClass, kSchemaLock);
    tx.exec(
        "CREATE SCHEMA IF NOT EXISTS storage;"
        "CREATE TABLE IF NOT EXISTS storage.account_pool ("
        "  account text PRIMARY KEY,"
        "  tenant_id uuid UNIQUE,"
        "  tenant_slug text,"
        "  claimed_at timestamptz,"
        "  CHECK ((tenant_id IS NULL) = (claimed_at IS NULL)))");
  });
  return pool;
}

std::unique_ptr<AccountPool> AccountPool::OpenExisting(const std::string& database_url) {
  std::unique_ptr<AccountPool> pool(new AccountPool(database_url));
  if (!pool->Transact("read the storage account pool", [](pqxx::work& tx) { return SchemaExists(tx); }))
    return nullptr;
  return pool;
}

std::optional<std::string> AccountPool::HeldBy(const std::string& tenant_id) {
  return Transact("read the storage account pool", [&](pqxx::work& tx) -> std::optional<std::string> {
    auto rows =
        tx.exec_params("SELECT account FROM storage.account_pool WHERE tenant_id = $1::uuid", tenant_id);
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<std::string>();
  });
}

std::string AccountPool::Claim(const std::string& tenant_id, const std::string& tenant_slug,
                               const std::vector<std::string>& accounts) {
  const std::string list = nlohmann::json(accounts).dump();
  return Transact("claim a dedicated storage account", [&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO storage.account_pool (account) SELECT jsonb_array_elements_text($1::jsonb) "
        "ON CONFLICT (account) DO NOTHING",
        list);
    auto held =
        tx.exec_params("SELECT account FROM storage.account_pool WHERE tenant_id = $1::uuid", tenant_id);
    if (!held.empty()) return held[0][0].as<std::string>();
    auto claimed = tx.exec_params(
        "UPDATE storage.account_pool SET tenant_id = $1::uuid, tenant_slug = $2, claimed_at = now() "
        "WHERE account = (SELECT account FROM storage.account_pool WHERE tenant_id IS NULL "
        "  AND account IN (SELECT jsonb_array_elements_text($3::jsonb)) ORDER BY account LIMIT 1 "
        "  FOR UPDATE SKIP LOCKED) "
        "RETURNING account",
        tenant_id, tenant_slug, list);
    if (!claimed.empty()) return claimed[0][0].as<std::string>();
    auto free = tx.exec_params1(
        "SELECT count(*) FROM storage.account_pool WHERE tenant_id IS NULL "
        "AND account IN (SELECT jsonb_array_elements_text($1::jsonb))",
        list);
    if (free[0].as<long>() > 0)
      throw Error(MATIH_STATUS_ABORTED,
                  "every free dedicated storage account is being claimed right now; will retry");
    throw PermanentError("no free dedicated storage account: all " + std::to_string(accounts.size()) +
                             " accounts of targets.storage.dedicated_accounts are held by other tenants",
                         MATIH_STATUS_RESOURCE_EXHAUSTED);
  });
}

void AccountPool::Release(const std::string& tenant_id) {
  Transact("release the dedicated storage account", [&](pqxx::work& tx) {
    tx.exec_params(
        "UPDATE storage.account_pool SET tenant_id = NULL, tenant_slug = NULL, claimed_at = NULL "
        "WHERE tenant_id = $1::uuid",
        tenant_id);
  });
}

}  // namespace matih::plugins::storage
