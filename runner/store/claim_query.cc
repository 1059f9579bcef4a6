#include "store/claim_query.h"

#include "store/tenant_store.h"

namespace matih::runner {
namespace {

constexpr const char* kClaimSql = R"sql(
WITH due AS (
  SELECT id AS due_id FROM matih.tenants
   WHERE (lease_expires_at IS NULL OR lease_expires_at < now())
     AND next_attempt_at <= now()
     AND ($4::text IS NULL OR slug = $4)
     AND (
          ($5 AND (status IN ('PENDING', 'PROVISIONING', 'UPGRADING', 'ROLLING_BACK', 'DEPROVISIONING')
                   OR (status = 'PENDING_DELETION' AND deletion_due_at <= now())))
       OR ($6 AND status = 'ACTIVE'
              AND (generation <> observed_generation OR last_reconciled_at IS NULL
                   OR last_reconciled_at < now() - $3 * interval '1 millisecond'))
     )
   ORDER BY next_attempt_at, created_at
   LIMIT $2
   FOR UPDATE SKIP LOCKED
)
UPDATE matih.tenants t
   SET lease_owner = $1, lease_epoch = t.lease_epoch + 1,
       lease_expires_at = now() + $7 * interval '1 millisecond'
  FROM due
 WHERE t.id = due.due_id
RETURNING )sql";

}  // namespace

Result<std::vector<ClaimedTenant>> ClaimQuery::Claim(pqxx::connection& conn, const ClaimOptions& o) {
  std::vector<ClaimedTenant> claimed;
  Status s = Database::InTransaction(conn, [&](pqxx::work& tx) {
    bool provisioning = o.mode != ClaimMode::kDriftOnly;
    bool drift = o.mode != ClaimMode::kPendingOnly;
    std::string sql = std::string(kClaimSql) + TenantStore::Columns();
    for (const auto& r :
         tx.exec_params(sql, o.owner, o.limit, static_cast<long long>(o.drift_interval.count()), o.slug,
                        provisioning, drift, static_cast<long long>(o.lease.count()))) {
      ClaimedTenant c;
      c.tenant = TenantStore::FromRow(r);
      c.lease = Lease{c.tenant.id, o.owner, c.tenant.lease_epoch};
      claimed.push_back(std::move(c));
    }
    return Status::Ok();
  });
  if (!s.ok()) return Status(s.code(), "claim tenants: " + s.message());
  return claimed;
}

Result<std::vector<std::string>> ClaimQuery::Heartbeat(pqxx::connection& conn,
                                                       const std::vector<Lease>& leases, Millis lease) {
  std::vector<std::string> lost;
  if (leases.empty()) return lost;
  Status s = Guard("heartbeat", [&] {
    pqxx::work tx(conn);
    for (const Lease& l : leases) {
      auto r = tx.exec_params(
          "UPDATE matih.tenants SET lease_expires_at = now() + $4 * interval '1 millisecond' "
          "WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3 RETURNING id::text",
          l.tenant_id, l.owner, l.epoch, static_cast<long long>(lease.count()));
      if (r.empty()) lost.push_back(l.tenant_id);
    }
    tx.commit();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return lost;
}

}  // namespace matih::runner
