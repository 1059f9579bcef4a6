#include "store/claim_query.h"

#include "store/tenant_store.h"

namespace matih::runner {
namespace {

// Parameters of every claim: $1 owner, $2 limit, $3 slug (or NULL), $4 lease in ms, $5 run id,
// $6 drift interval in ms.
constexpr const char* kDueCommon =
    "(lease_expires_at IS NULL OR lease_expires_at < now()) AND next_attempt_at <= now() "
    "AND ($3::text IS NULL OR slug = $3) ";

struct Stage {
  const char* where;     // matches the predicate of its partial index
  const char* order_by;  // the order of that index
  bool counts_attempt;   // onboarding and upgrades count attempts (every claim counts crashes)
};

const Stage kStages[] = {
    {"status IN ('PENDING', 'PROVISIONING', 'UPGRADING', 'ROLLING_BACK', 'DEPROVISIONING', "
     "'PENDING_DELETION') AND (status <> 'PENDING_DELETION' OR deletion_due_at <= now())",
     "next_attempt_at, created_at", true},
    {"status = 'ACTIVE' AND generation <> observed_generation", "next_attempt_at, created_at", true},
    {"status = 'ACTIVE' AND COALESCE(last_reconciled_at, '-infinity'::timestamptz) < "
     "now() - $6::bigint * interval '1 millisecond'",
     "COALESCE(last_reconciled_at, '-infinity'::timestamptz)", false},
};

std::string Select(const Stage& st) {
  return std::string(
             "SELECT id AS due_id, lease_owner AS old_owner, lease_run AS old_run FROM matih.tenants "
             "WHERE ") +
         st.where + " AND " + kDueCommon + "ORDER BY " + st.order_by + " LIMIT $2 FOR UPDATE SKIP LOCKED";
}

std::string ClaimSql(const Stage& st) {
  std::string sql = "WITH due AS (" + Select(st) +
                    ") UPDATE matih.tenants t SET lease_owner = $1, lease_epoch = t.lease_epoch + 1, "
                    "lease_expires_at = now() + $4::bigint * interval '1 millisecond', lease_run = $5";
  sql += ", crashes = t.crashes + CASE WHEN due.old_owner IS NULL THEN 0 ELSE 1 END";
  if (st.counts_attempt)
    sql += ", attempts = t.attempts + 1, first_claimed_at = COALESCE(t.first_claimed_at, now())";
  // The id list keeps the UPDATE on the primary key whatever the planner guesses of the CTE's
  // size (a hash join with a sequential scan of every tenant otherwise, at 10,000 and more).
  sql +=
      " FROM due WHERE t.id = due.due_id AND t.id = ANY (ARRAY(SELECT due_id FROM due)) "
      "RETURNING due.old_owner, due.old_run, ";
  return sql + TenantStore::Columns();
}

// The claim statements, one per stage, made once.
const std::vector<std::string>& ClaimStatements() {
  static const std::vector<std::string> sql = [] {
    std::vector<std::string> out;
    for (const Stage& st : kStages) out.push_back(ClaimSql(st));
    return out;
  }();
  return sql;
}

// Sets each tenant's step records, read in `tx` (128 tenants a statement: ReadStepsOf).
void SetSteps(pqxx::transaction_base& tx, const std::vector<ClaimedTenant*>& tenants) {
  std::vector<std::string> ids;
  for (const ClaimedTenant* c : tenants) ids.push_back(c->tenant.id);
  auto steps = TenantStore::ReadStepsOf(tx, ids);
  for (ClaimedTenant* c : tenants) c->steps = std::move(steps[c->tenant.id]);
}

}  // namespace

std::vector<std::string> ClaimQuery::ClaimSelects(int limit, Millis drift_interval) {
  auto replace = [](std::string sql, const std::string& from, const std::string& to) {
    for (size_t at = sql.find(from); at != std::string::npos; at = sql.find(from, at + to.size()))
      sql.replace(at, from.size(), to);
    return sql;
  };
  std::vector<std::string> out;
  for (const Stage& st : kStages) {
    std::string sql = replace(Select(st), "$2", std::to_string(limit));
    sql = replace(sql, "$3::text", "NULL::text");
    sql = replace(sql, "$3", "NULL");
    out.push_back(replace(sql, "$6::bigint", std::to_string(drift_interval.count()) + "::bigint"));
  }
  return out;
}

Result<std::vector<ClaimedTenant>> ClaimQuery::Claim(pqxx::connection& conn, const ClaimOptions& o) {
  std::vector<ClaimedTenant> claimed;
  Status s = Database::InTransaction(conn, [&](pqxx::work& tx) {
    const bool stages[] = {o.mode != ClaimMode::kDriftOnly, o.mode != ClaimMode::kPendingOnly,
                           o.mode != ClaimMode::kPendingOnly};
    std::optional<std::string> run_id;
    if (!o.run_id.empty()) run_id = o.run_id;
    std::vector<std::string> dead_runs;
    for (size_t i = 0; i < std::size(kStages); ++i) {
      const int left = o.limit - static_cast<int>(claimed.size());
      if (!stages[i] || left <= 0) continue;
      // Every parameter passed must appear in the statement: only the drift claim reads $6.
      const std::string name = "matih_claim_" + std::to_string(i);
      Prepare(tx.conn(), name, ClaimStatements()[i]);
      const long long lease_ms = o.lease.count();
      pqxx::result rows = i == 2 ? tx.exec_prepared(name, o.owner, left, o.slug, lease_ms, run_id,
                                                    static_cast<long long>(o.drift_interval.count()))
                                 : tx.exec_prepared(name, o.owner, left, o.slug, lease_ms, run_id);
      for (const auto& r : rows) {
        ClaimedTenant c;
        c.tenant = TenantStore::FromRow(r);
        c.lease = Lease{c.tenant.id, o.owner, c.tenant.lease_epoch};
        c.runner_lost = !r["old_owner"].is_null();
        if (c.runner_lost && !r["old_run"].is_null()) dead_runs.push_back(r["old_run"].as<std::string>());
        claimed.push_back(std::move(c));
      }
    }
    // The batch's step rows.
    if (o.read_steps) {
      std::vector<ClaimedTenant*> all;
      for (ClaimedTenant& c : claimed) all.push_back(&c);
      SetSteps(tx, all);
    }
    // The runs of runners that died holding these leases are over: close their rows.
    for (const std::string& run : dead_runs)
      tx.exec_params(
          "UPDATE matih.runs SET finished_at = now(), "
          "closed_reason = 'the runner was lost; its lease was taken over by run ' || $2 "
          "WHERE id::text = $1 AND finished_at IS NULL",
          run, o.run_id.empty() ? std::string("(unnamed)") : o.run_id);
    return Status::Ok();
  });
  if (!s.ok()) return Status(s.code(), "claim tenants: " + s.message());
  return claimed;
}

Status ClaimQuery::ReadSteps(pqxx::connection& conn, const std::vector<ClaimedTenant*>& tenants) {
  if (tenants.empty()) return Status::Ok();
  return Guard("read the step rows of claimed tenants", [&] {
    pqxx::read_transaction tx(conn);
    SetSteps(tx, tenants);
    tx.commit();
    return Status::Ok();
  });
}

Result<std::string> ClaimQuery::Explain(pqxx::connection& conn, const ClaimOptions& o) {
  std::string out;
  Status s = Guard("explain claim", [&] {
    pqxx::work tx(conn);
    const bool stages[] = {o.mode != ClaimMode::kDriftOnly, o.mode != ClaimMode::kPendingOnly,
                           o.mode != ClaimMode::kPendingOnly};
    const char* names[] = {"onboarding and retries", "upgrades", "drift"};
    std::optional<std::string> run_id;
    if (!o.run_id.empty()) run_id = o.run_id;
    for (size_t i = 0; i < std::size(kStages); ++i) {
      if (!stages[i]) continue;
      const std::string sql = "EXPLAIN (ANALYZE, COSTS OFF, TIMING ON) " + ClaimStatements()[i];
      const long long lease_ms = o.lease.count();
      pqxx::result rows = i == 2 ? tx.exec_params(sql, o.owner, o.limit, o.slug, lease_ms, run_id,
                                                  static_cast<long long>(o.drift_interval.count()))
                                 : tx.exec_params(sql, o.owner, o.limit, o.slug, lease_ms, run_id);
      out += std::string("-- claim ") + std::to_string(i + 1) + ": " + names[i] + "\n";
      for (const auto& r : rows) out += r[0].as<std::string>() + "\n";
    }
    tx.abort();  // EXPLAIN ANALYZE ran the claims: nothing of them stays
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::string> ClaimQuery::WhyNotDue(pqxx::connection& conn, const ClaimOptions& o) {
  std::string why;
  Status s = Guard("read tenant", [&] {
    pqxx::nontransaction tx(conn);
    auto rows = tx.exec_params(
        "SELECT status, lease_owner, lease_expires_at::text AS lease_expires_at, "
        "(lease_expires_at IS NOT NULL AND lease_expires_at >= now()) AS leased, "
        "next_attempt_at::text AS next_attempt_at, next_attempt_at > now() AS later, "
        "deletion_due_at::text AS deletion_due_at, "
        "(status = 'PENDING_DELETION' AND deletion_due_at > now()) AS in_grace "
        "FROM matih.tenants WHERE slug = $1",
        o.slug.value_or(""));
    if (rows.empty()) return NotFound("no tenant '" + o.slug.value_or("") + "'");
    const auto& r = rows[0];
    const std::string status = r["status"].as<std::string>();
    if (r["leased"].as<bool>()) {
      why = "it is leased by runner " + r["lease_owner"].as<std::string>("?") + " until " +
            r["lease_expires_at"].as<std::string>("?");
    } else if (r["in_grace"].as<bool>()) {
      why = "it is PENDING_DELETION; its grace period ends at " + r["deletion_due_at"].as<std::string>("?");
    } else if (r["later"].as<bool>() && status != "SUSPENDED" && status != "FAILED" &&
               status != "ROLLED_BACK" && status != "DELETED") {
      why =
          "it is " + status + " and its next attempt is due at " + r["next_attempt_at"].as<std::string>("?");
    } else if (status == "ACTIVE" && o.mode == ClaimMode::kPendingOnly) {
      why = "it is ACTIVE and --pending-only excludes the drift pass";
    } else if (status != "ACTIVE" && o.mode == ClaimMode::kDriftOnly) {
      why = "it is " + status + " and --drift-only only claims ACTIVE tenants";
    } else if (status == "SUSPENDED") {
      why = "it is SUSPENDED (resume it first)";
    } else if (status == "FAILED" || status == "ROLLED_BACK") {
      why = "it is " + status + " (an operator decides: retry, rollback or delete)";
    } else if (status == "DELETED") {
      why = "it is DELETED";
    } else {
      why = "it is " + status + " and not due";
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return why;
}

Result<std::vector<std::string>> ClaimQuery::Heartbeat(pqxx::connection& conn,
                                                       const std::vector<Lease>& leases, Millis lease,
                                                       Millis statement_timeout) {
  std::vector<std::string> lost;
  if (leases.empty()) return lost;
  Status s = Guard("heartbeat", [&] {
    pqxx::work tx(conn);
    // A heartbeat that waits on a lock or a stalled server fails in time instead of blocking the
    // thread that must cancel the work before the lease runs out.
    const std::string ms = std::to_string(std::max<long long>(1, statement_timeout.count()));
    tx.exec("SET LOCAL lock_timeout = " + ms + "; SET LOCAL statement_timeout = " + ms);
    Prepare(tx.conn(), "matih_heartbeat",
            "UPDATE matih.tenants SET lease_expires_at = now() + $4 * interval '1 millisecond' "
            "WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3 RETURNING id::text");
    Prepare(tx.conn(), "matih_heartbeat_released",
            "SELECT 1 FROM matih.tenants WHERE id = $1 AND lease_epoch = $2 AND lease_owner IS NULL");
    for (const Lease& l : leases) {
      auto r = tx.exec_prepared("matih_heartbeat", l.tenant_id, l.owner, l.epoch,
                                static_cast<long long>(lease.count()));
      if (!r.empty()) continue;
      // Released by its own runner (same epoch, no owner): the tenant finished, nothing is lost.
      auto released = tx.exec_prepared("matih_heartbeat_released", l.tenant_id, l.epoch);
      if (released.empty()) lost.push_back(l.tenant_id);
    }
    tx.commit();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return lost;
}

}  // namespace matih::runner
