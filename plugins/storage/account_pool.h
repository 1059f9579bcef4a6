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
// One pool per step call, used from the calling thread only.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/pg_session.h"

namespace matih::plugins::storage {

class AccountPool {
 public:
  // Connects and creates the schema when missing.
  static AccountPool Open(const std::string& database_url);
  // Connects; nullopt when the schema does not exist (nothing was ever claimed). Creates nothing.
  static std::optional<AccountPool> OpenExisting(const std::string& database_url);

  // The account `tenant_id` holds, or nullopt.
  std::optional<std::string> HeldBy(const std::string& tenant_id);
  // The account `tenant_id` holds, claiming a free one of `accounts` when it holds none.
  std::string Claim(const std::string& tenant_id, const std::string& tenant_slug,
                    const std::vector<std::string>& accounts);
  // Frees the row of `tenant_id`; fine when it holds none.
  void Release(const std::string& tenant_id);

 private:
  explicit AccountPool(PgSession session) : session_(std::move(session)) {}
  PgSession session_;
};

}  // namespace matih::plugins::storage
