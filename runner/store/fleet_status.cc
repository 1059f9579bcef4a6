#include "store/fleet_status.h"

namespace matih::runner {
namespace {

std::string Text(const pqxx::field& f) { return f.is_null() ? "" : f.as<std::string>(); }

// Timestamps as ISO text in UTC ("2026-12-01T17:41:17Z"), whatever the session's DateStyle.
constexpr const char* kIso = "YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"";

std::string Iso(const std::string& column) {
  return "to_char(" + column + " AT TIME ZONE 'UTC', '" + kIso + "')";
}

std::string RunOutcome(const RunRow& r) {
  if (r.finished_at.empty()) return "unfinished";
  if (r.exit_code) {
    if (*r.exit_code == 0) return "ok";
    if (*r.exit_code == 3) return "tenants_failed";
    return "error";
  }
  return r.tenants_failed > 0 ? "tenants_failed" : "ok";
}

void ReadCounts(pqxx::work& tx, FleetStatus& fs) {
  for (const auto& r : tx.exec(
           "SELECT status, tier, count(*) FROM matih.tenants GROUP BY status, tier ORDER BY status, tier")) {
    TenantCount c{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<int64_t>()};
    fs.total += c.count;
    if (c.status == "PENDING") fs.pending += c.count;
    if (c.status == "FAILED" || c.status == "ROLLED_BACK") fs.troubled_total += c.count;
    fs.counts.push_back(std::move(c));
  }
}

void ReadOldestPending(pqxx::work& tx, FleetStatus& fs) {
  // Index tenants_status_created: one index probe.
  auto rows = tx.exec("SELECT slug, tier, " + Iso("created_at") +
                      ", floor(extract(epoch FROM now() - created_at))::bigint FROM matih.tenants "
                      "WHERE status = 'PENDING' ORDER BY created_at LIMIT 1");
  if (rows.empty()) return;
  fs.oldest_pending = PendingTenant{rows[0][0].as<std::string>(), rows[0][1].as<std::string>(),
                                    rows[0][2].as<std::string>(), rows[0][3].as<int64_t>()};
}

void ReadTroubled(pqxx::work& tx, const FleetStatusOptions& o, FleetStatus& fs) {
  // The failing step is the tenant's newest step.failed event: a backward scan of its chain
  // (unique index on tenant_id, seq), done only for the rows shown.
  auto rows = tx.exec_params(
      "SELECT t.slug, t.tier, t.status, " + Iso("t.updated_at") +
          ", f.step_number, f.step_name, coalesce(t.last_error, '') "
          "FROM (SELECT id, slug, tier, status, updated_at, last_error FROM matih.tenants "
          "       WHERE status IN ('FAILED', 'ROLLED_BACK') ORDER BY updated_at DESC LIMIT $1) t "
          "LEFT JOIN LATERAL (SELECT step_number, step_name FROM matih.audit_events a "
          "                    WHERE a.tenant_id = t.id AND a.event = 'step.failed' "
          "                    ORDER BY a.seq DESC LIMIT 1) f ON true "
          "ORDER BY t.updated_at DESC",
      o.list_limit);
  for (const auto& r : rows) {
    TroubledTenant t;
    t.slug = r[0].as<std::string>();
    t.tier = r[1].as<std::string>();
    t.status = r[2].as<std::string>();
    t.since = r[3].as<std::string>();
    if (!r[4].is_null()) t.step_number = r[4].as<int>();
    t.step_name = Text(r[5]);
    t.last_error = r[6].as<std::string>();
    fs.troubled.push_back(std::move(t));
  }
}

void ReadOverdue(pqxx::work& tx, const FleetStatusOptions& o, FleetStatus& fs) {
  // Index tenants_status_reconciled: ACTIVE rows in reconcile order, never-reconciled first.
  const std::string overdue =
      "FROM matih.tenants WHERE status = 'ACTIVE' AND (last_reconciled_at IS NULL OR "
      "last_reconciled_at < now() - $1 * interval '1 millisecond')";
  const auto interval = static_cast<long long>(o.drift_interval.count());
  fs.overdue_total = tx.exec_params1("SELECT count(*) " + overdue, interval)[0].as<int64_t>();
  for (const auto& r : tx.exec_params("SELECT slug, tier, " + Iso("last_reconciled_at") + " " + overdue +
                                          " ORDER BY last_reconciled_at NULLS FIRST LIMIT $2",
                                      interval, o.list_limit))
    fs.overdue.push_back({r[0].as<std::string>(), r[1].as<std::string>(), Text(r[2])});
}

void ReadRuns(pqxx::work& tx, const FleetStatusOptions& o, FleetStatus& fs) {
  for (const auto& r : tx.exec_params(
           "SELECT id::text, runner, mode, " + Iso("started_at") + ", " + Iso("finished_at") +
               ", extract(epoch FROM finished_at - started_at)::float8, tenants_claimed, tenants_ok, "
               "tenants_failed, exit_code FROM matih.runs ORDER BY started_at DESC LIMIT $1",
           o.runs_limit)) {
    RunRow run;
    run.id = r[0].as<std::string>();
    run.runner = r[1].as<std::string>();
    run.mode = r[2].as<std::string>();
    run.started_at = r[3].as<std::string>();
    run.finished_at = Text(r[4]);
    if (!r[5].is_null()) run.seconds = r[5].as<double>();
    run.tenants_claimed = r[6].as<int>();
    run.tenants_ok = r[7].as<int>();
    run.tenants_failed = r[8].as<int>();
    if (!r[9].is_null()) run.exit_code = r[9].as<int>();
    run.outcome = RunOutcome(run);
    fs.runs.push_back(std::move(run));
  }
}

void ReadLeases(pqxx::work& tx, FleetStatus& fs) {
  // Index tenants_lease_expires: only live leases are visited.
  for (const auto& r :
       tx.exec("SELECT lease_owner, count(*), " + Iso("min(lease_expires_at)") + ", " +
               Iso("max(lease_expires_at)") +
               " FROM matih.tenants WHERE lease_expires_at > now() AND lease_owner IS NOT NULL "
               "GROUP BY lease_owner ORDER BY count(*) DESC, lease_owner"))
    fs.leases.push_back(
        {r[0].as<std::string>(), r[1].as<int64_t>(), r[2].as<std::string>(), r[3].as<std::string>()});
}

void ReadFailingSteps(pqxx::work& tx, const FleetStatusOptions& o, FleetStatus& fs) {
  // Index audit_events_event_time: only the last day's step.failed events are visited.
  for (const auto& r : tx.exec_params(
           "SELECT step_number, step_name, count(*), count(DISTINCT tenant_id) FROM matih.audit_events "
           "WHERE event = 'step.failed' AND created_at > now() - interval '24 hours' "
           "AND step_number IS NOT NULL "
           "GROUP BY step_number, step_name ORDER BY count(*) DESC, step_number LIMIT $1",
           o.list_limit))
    fs.failing_steps.push_back(
        {r[0].as<int>(), r[1].as<std::string>(), r[2].as<int64_t>(), r[3].as<int64_t>()});
}

}  // namespace

Result<FleetStatus> FleetStatusQuery::Read(const Database& db, const FleetStatusOptions& options) {
  auto conn = db.Connect();
  if (!conn.ok()) return conn.status();
  FleetStatus fs;
  Status s = Guard("read fleet status", [&] {
    pqxx::work tx(**conn);
    tx.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    fs.as_of = tx.exec1("SELECT " + Iso("now()"))[0].as<std::string>();
    ReadCounts(tx, fs);
    ReadOldestPending(tx, fs);
    ReadTroubled(tx, options, fs);
    ReadOverdue(tx, options, fs);
    ReadRuns(tx, options, fs);
    ReadLeases(tx, fs);
    ReadFailingSteps(tx, options, fs);
    tx.commit();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return fs;
}

Result<FleetStatusQuery::Gauges> FleetStatusQuery::ReadGauges(pqxx::connection& conn) {
  Gauges g;
  Status s = Guard("count tenants by status", [&] {
    g = Gauges{};
    pqxx::work tx(conn);
    for (const auto& r : tx.exec(
             "SELECT status, count(*), extract(epoch FROM min(created_at) FILTER (WHERE status = 'PENDING'))"
             "::float8 FROM matih.tenants GROUP BY status")) {
      g.by_status[r[0].as<std::string>()] = r[1].as<int64_t>();
      if (!r[2].is_null()) g.oldest_pending_created = r[2].as<double>();
    }
    tx.commit();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return g;
}

}  // namespace matih::runner
