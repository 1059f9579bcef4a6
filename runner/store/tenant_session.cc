#include "store/tenant_session.h"

#include <nlohmann/json.hpp>

namespace matih::runner {
namespace {

// The session's own statements, prepared once per connection (pqxx keeps the definitions with
// the connection; a reopened one prepares them again on first use).
constexpr const char* kFence = "matih_session_fence";
constexpr const char* kFenceSql =
    "SELECT 1 FROM matih.tenants WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3 FOR UPDATE";
// Every queued step record in one statement: $2 is a JSON array of records.
constexpr const char* kSteps = "matih_session_steps";
constexpr const char* kStepsSql =
    "INSERT INTO matih.tenant_steps (tenant_id, step_number, step_name, phase, status, attempts, outputs, "
    "last_error, diff, started_at, finished_at, observed_at) "
    "SELECT $1::uuid, r.n, r.name, r.phase, r.status, r.attempts, r.outputs, NULLIF(r.last_error, ''), "
    "  NULLIF(r.diff, ''), CASE WHEN r.status IN ('RUNNING', 'REMOVING') THEN now() END, "
    "  CASE WHEN r.status IN ('DONE', 'FAILED', 'REMOVED', 'SKIPPED') THEN now() END, now() "
    "FROM jsonb_to_recordset($2::jsonb) AS r(n integer, name text, phase integer, status text, "
    "  attempts integer, outputs jsonb, last_error text, diff text) "
    "ON CONFLICT (tenant_id, step_number) DO UPDATE SET step_name = EXCLUDED.step_name, "
    "  phase = EXCLUDED.phase, status = EXCLUDED.status, attempts = EXCLUDED.attempts, "
    "  outputs = EXCLUDED.outputs, last_error = EXCLUDED.last_error, diff = EXCLUDED.diff, "
    "  started_at = COALESCE(EXCLUDED.started_at, matih.tenant_steps.started_at), "
    "  finished_at = CASE WHEN EXCLUDED.status IN ('RUNNING', 'REMOVING', 'PENDING') THEN NULL "
    "                     ELSE COALESCE(EXCLUDED.finished_at, matih.tenant_steps.finished_at) END, "
    "  observed_at = now()";
constexpr const char* kHop = "matih_session_hop";
constexpr const char* kHopSql = "UPDATE matih.tenants SET status = $2 WHERE id = $1";
constexpr const char* kTenant = "matih_session_tenant";
constexpr const char* kTenantSql =
    "UPDATE matih.tenants SET status = COALESCE($2, status), attempts = COALESCE($3, attempts), "
    "next_attempt_at = CASE WHEN $4::bigint IS NULL THEN next_attempt_at "
    "                       ELSE now() + $4::bigint * interval '1 millisecond' END, "
    "last_error = CASE WHEN $5::text IS NULL THEN last_error ELSE NULLIF($5, '') END, "
    "observed_generation = COALESCE($6, observed_generation), "
    "last_reconciled_at = CASE WHEN $7 THEN now() ELSE last_reconciled_at END, "
    "resume_from_step = CASE WHEN $8 THEN NULL ELSE resume_from_step END, "
    "first_claimed_at = CASE WHEN $2 IN ('ACTIVE', 'ROLLED_BACK', 'DELETED') THEN NULL "
    "                        ELSE first_claimed_at END, "
    "crashes = CASE WHEN $10 OR $2 IN ('ACTIVE', 'ROLLED_BACK', 'DELETED') THEN 0 ELSE crashes END, "
    "lease_owner = CASE WHEN $9 THEN NULL ELSE lease_owner END, "
    "lease_expires_at = CASE WHEN $9 THEN NULL ELSE lease_expires_at END "
    "WHERE id = $1";

}  // namespace

std::string TenantSession::StepsJson() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [number, r] : steps_) {
    rows.push_back({{"n", number},
                    {"name", r.name},
                    {"phase", r.phase},
                    {"status", ToString(r.status)},
                    {"attempts", r.attempts},
                    {"outputs", r.outputs},
                    {"last_error", r.last_error},
                    {"diff", r.diff}});
  }
  return rows.dump();
}

Status TenantSession::Update(const TenantUpdate& u, const std::string& reason) {
  Hold();
  if (u.status) {
    if (Status s = StateMachine::Check(status_, *u.status); !s.ok()) return s;
    AuditEvent e;
    e.event = "transition";
    e.details = {{"from", ToString(status_)}, {"to", ToString(*u.status)}};
    if (!reason.empty()) e.details["reason"] = reason;
    events_.push_back(e);
    status_ = *u.status;
    hops_.push_back(status_);
  }
  if (!tenant_) {
    tenant_ = u;
    return Status::Ok();
  }
  TenantUpdate& t = *tenant_;
  if (u.status) t.status = u.status;
  if (u.attempts) t.attempts = u.attempts;
  if (u.retry_after) t.retry_after = u.retry_after;
  if (u.last_error) t.last_error = u.last_error;
  if (u.observed_generation) t.observed_generation = u.observed_generation;
  t.mark_reconciled |= u.mark_reconciled;
  t.clear_resume_from |= u.clear_resume_from;
  t.release_lease |= u.release_lease;
  t.reset_crashes |= u.reset_crashes;
  return Status::Ok();
}

std::optional<InSyncWrite> TenantSession::TakeInSync() {
  if (!steps_.empty() || !hops_.empty() || events_.empty() || !tenant_) return std::nullopt;
  const TenantUpdate& u = *tenant_;
  if (u.status || u.attempts || u.retry_after || !u.last_error || !u.last_error->empty() ||
      !u.observed_generation || !u.mark_reconciled || u.clear_resume_from || !u.release_lease ||
      !u.reset_crashes)
    return std::nullopt;
  InSyncWrite w{lease_, *u.observed_generation, std::move(events_)};
  events_.clear();
  tenant_.reset();
  held_since_.reset();
  return w;
}

Status TenantSession::Checkpoint(Millis interval) {
  if (!HasPending()) return Status::Ok();
  if (held_since_ && std::chrono::steady_clock::now() - *held_since_ < interval) return Status::Ok();
  return Flush();
}

Status TenantSession::Flush() {
  if (!HasPending()) return Status::Ok();
  // The chain head this flush's events end at, once an attempt has written them. A connection
  // lost while the commit was in flight leaves its outcome unknown; the attempt that follows finds
  // that head in the tenant row when the commit went through, and writes nothing twice (the
  // chain's hashes cover seq, run, time and content: no other flush ends at the same head).
  std::string written_head;
  auto flush = [&](pqxx::connection& conn) {
    return Database::InTransaction(conn, [&](pqxx::work& tx) -> Status {
      if (!written_head.empty()) {
        auto head = tx.exec_params("SELECT audit_head FROM matih.tenants WHERE id = $1", lease_.tenant_id);
        if (!head.empty() && !head[0][0].is_null() && head[0][0].as<std::string>() == written_head)
          return Status::Ok();
      }
      conn.prepare(kFence, kFenceSql);
      conn.prepare(kSteps, kStepsSql);
      conn.prepare(kHop, kHopSql);
      conn.prepare(kTenant, kTenantSql);
      auto fence = tx.exec_prepared(kFence, lease_.tenant_id, lease_.owner, lease_.epoch);
      if (fence.empty()) {
        return Status(Code::kAborted,
                      "lease lost: another runner or an operator took tenant " + lease_.tenant_id,
                      Reason::kLeaseLost);
      }
      if (!steps_.empty()) tx.exec_prepared(kSteps, lease_.tenant_id, StepsJson());
      for (size_t i = 0; i + 1 < hops_.size(); ++i)
        tx.exec_prepared(kHop, lease_.tenant_id, ToString(hops_[i]));
      if (tenant_) {
        const TenantUpdate& u = *tenant_;
        std::optional<std::string> status;
        if (u.status) status = ToString(*u.status);
        std::optional<long long> retry_ms;
        if (u.retry_after) retry_ms = u.retry_after->count();
        tx.exec_prepared(kTenant, lease_.tenant_id, status, u.attempts, retry_ms, u.last_error,
                         u.observed_generation, u.mark_reconciled, u.clear_resume_from, u.release_lease,
                         u.reset_crashes);
      }
      written_head = AuditLog::Append(tx, lease_.tenant_id, run_id_, runner_, events_);
      return Status::Ok();
    });
  };
  Status s = link_ ? link_->Retry(flush) : flush(*conn_);
  if (s.reason() == Reason::kLeaseLost) lease_lost_ = true;
  if (s.ok()) {
    ++commits_;
    steps_.clear();
    events_.clear();
    tenant_.reset();
    hops_.clear();
    held_since_.reset();
  }
  return s;
}

}  // namespace matih::runner
