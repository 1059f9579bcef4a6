// AccountPool: the dedicated storage accounts of PROFESSIONAL and ENTERPRISE tenants, each held by
// at most one tenant, recorded in table storage.account_pool of the database at setting
// storage.database_url (schema `storage`, created on first use).
//
// A claim is atomic across runners: one transaction inserts the configured accounts that are not
// rows yet, then takes the first free row with FOR UPDATE SKIP LOCKED; UNIQUE(tenant_id) keeps a
// tenant to one account. A tenant that already holds an account gets it back (idempotent). When
// every free row is locked by concurrent claims the answer is ABORTED (retried); when none is free,
// RESOURCE_EXHAUSTED naming the pool's size. Release frees the tenant's row.
//
// Connections are reused across calls: one cached session per database URL per process, handed
// to one AccountPool at a time (the pool holds the cache's lock while it lives; claims are rare and
// short, so calls of other threads wait rather than connect). A session that failed transiently is
// dropped and the next call reconnects. One AccountPool per step call, on the calling thread.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/pg_session.h"

namespace matih::plugins::storage {

class AccountPool {
 public:
  // Connects (or reuses the cached session) and creates the schema when missing.
  static std::unique_ptr<AccountPool> Open(const std::string& database_url);
  // The same; nullptr when the schema does not exist (nothing was ever claimed). Creates nothing.
  static std::unique_ptr<AccountPool> OpenExisting(const std::string& database_url);

  // The account `tenant_id` holds, or nullopt.
  std::optional<std::string> HeldBy(const std::string& tenant_id);
  // The account `tenant_id` holds, claiming a free one of `accounts` when it holds none.
  std::string Claim(const std::string& tenant_id, const std::string& tenant_slug,
                    const std::vector<std::string>& accounts);
  // Frees the row of `tenant_id`; fine when it holds none.
  void Release(const std::string& tenant_id);

 private:
  AccountPool(const std::string& database_url);
  // Runs fn(tx) in one transaction on the cached session; a transient failure drops the session.
  template <typename Fn>
  auto Transact(const std::string& what, Fn&& fn);

  std::unique_lock<std::mutex> lock_;
  std::unique_ptr<PgSession>* session_;  // the cache's slot for this URL, guarded by lock_
};

}  // namespace matih::plugins::storage
