#include "engine/orchestrator.h"

#include "engine/tier_upgrade.h"
#include "secrets/secret_store.h"
#include "store/tenant_store.h"
#include "telemetry/logger.h"
#include "telemetry/metrics.h"

namespace matih::runner {
namespace {

using S = TenantStatus;

Result<std::map<int, StepRecord>> LoadRecords(pqxx::connection& conn, const std::string& tenant_id) {
  std::map<int, StepRecord> records;
  Status s = Guard("read step records", [&] {
    pqxx::nontransaction tx(conn);
    for (auto& rec : TenantStore::ReadSteps(tx, tenant_id)) records[rec.number] = std::move(rec);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return records;
}

}  // namespace

TenantOutcome Orchestrator::Process(pqxx::connection& conn, const ClaimedTenant& claimed,
                                    const std::atomic<bool>* cancel) {
  const TenantRecord& t = claimed.tenant;
  TenantOutcome out;
  out.slug = t.slug;
  out.final_status = t.status;
  TenantSession session(conn, claimed.lease, t.status, deps_.run_id, deps_.runner);
  AuditEvent claim;
  claim.event = "tenant.claimed";
  claim.details = {
      {"status", ToString(t.status)}, {"epoch", claimed.lease.epoch}, {"generation", t.generation}};
  session.Audit(claim);

  auto records = LoadRecords(conn, t.id);
  Status s = records.status();
  if (records.ok()) {
    ProvisioningService service(deps_, session, t, std::move(*records), cancel);
    switch (t.status) {
      case S::kPending:
        s = session.Update({.status = S::kProvisioning}, "claimed for provisioning");
        if (s.ok()) s = Provision(session, service, t, ConvergeMode::kProvision, out);
        break;
      case S::kProvisioning: s = Provision(session, service, t, ConvergeMode::kProvision, out); break;
      case S::kUpgrading: s = Provision(session, service, t, ConvergeMode::kReconcile, out); break;
      case S::kActive:
        if (t.generation != t.observed_generation) {
          s = session.Update({.status = S::kUpgrading}, "spec generation " + std::to_string(t.generation) +
                                                            " differs from observed " +
                                                            std::to_string(t.observed_generation));
          if (s.ok()) s = Provision(session, service, t, ConvergeMode::kReconcile, out);
        } else {
          s = Reconcile(session, service, t, out);
        }
        break;
      case S::kRollingBack: s = RollBack(session, service, out); break;
      case S::kPendingDeletion:
        s = session.Update({.status = S::kDeprovisioning}, "grace period over");
        if (s.ok()) s = Deprovision(session, service, t, out);
        break;
      case S::kDeprovisioning: s = Deprovision(session, service, t, out); break;
      default:
        s = FailedPrecondition(std::string("a tenant in status ") + ToString(t.status) + " is never claimed");
        break;
    }
  }
  if (s.ok()) s = session.Flush();
  out.commits = session.commits();
  out.final_status = session.status();
  if (!s.ok()) {
    out.error = s.ToString();
    out.outcome =
        s.code() == Code::kAborted && s.message().rfind("lease lost", 0) == 0 ? "lease_lost" : "error";
    if (out.outcome == "error") {
      // Try to leave the tenant for a later run instead of holding the lease until it expires.
      TenantSession release(conn, claimed.lease, session.status(), deps_.run_id, deps_.runner);
      AuditEvent e;
      e.event = "run.error";
      e.details = {{"error", out.error}};
      release.Audit(e);
      (void)release.Update({.retry_after = deps_.options->tenant_backoff.initial_backoff,
                            .last_error = out.error,
                            .release_lease = true});
      (void)release.Flush();
    }
    Logger::Error({deps_.run_id, t.slug, ""}, "tenant not finished: " + out.error);
  }
  if (s.ok())
    Logger::Info({deps_.run_id, t.slug, ""}, std::string(ToString(t.status)) + " -> " +
                                                 ToString(out.final_status) + " (" + out.outcome + ")");
  if (deps_.metrics) deps_.metrics->TenantProcessed(out.outcome);
  return out;
}

Status Orchestrator::Provision(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                               ConvergeMode mode, TenantOutcome& out) {
  FlowResult flow = service.Converge(mode);
  // A tier change that moved objects: only now are they removed from where they were.
  if (flow.ok) flow = TierUpgrade::RemoveLeftBehind(service, true);
  if (!flow.ok) {
    if (flow.error.code() == Code::kAborted) return HandBack(session, flow, out);
    return OnFailure(session, service, t, flow, out);
  }
  const bool upgrade = session.status() == S::kUpgrading;
  out.outcome = upgrade ? "upgraded" : "active";
  return session.Update({.status = S::kActive,
                         .attempts = 0,
                         .last_error = "",
                         .observed_generation = t.generation,
                         .mark_reconciled = true,
                         .clear_resume_from = true,
                         .release_lease = true},
                        upgrade ? "upgrade converged" : "provisioned");
}

Status Orchestrator::Reconcile(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                               TenantOutcome& out) {
  FlowResult flow = service.Converge(ConvergeMode::kReconcile);
  if (!flow.ok) {
    if (flow.error.code() == Code::kAborted) return HandBack(session, flow, out);
    // An ACTIVE tenant stays ACTIVE; the failed step is recorded and retried after a backoff.
    out.outcome = "drift_failed";
    return session.Update({.retry_after = deps_.options->tenant_backoff.Delay(2),
                           .last_error = "drift correction failed at step " +
                                         std::to_string(flow.failed_step) + ": " + flow.error.ToString(),
                           .release_lease = true});
  }
  TenantUpdate done{
      .last_error = "", .observed_generation = t.generation, .mark_reconciled = true, .release_lease = true};
  if (flow.applied > 0) {
    out.outcome = "drift_corrected";
    done.status = S::kActive;
    return session.Update(done, "drift corrected in " + std::to_string(flow.applied) + " step(s)");
  }
  out.outcome = "in_sync";
  return session.Update(done);
}

Status Orchestrator::HandBack(TenantSession& session, const FlowResult& flow, TenantOutcome& out) {
  // A lost lease: nothing more may be written. A stop request: give the tenant back as it is,
  // due at once, so the next run resumes it (the in-flight step is observed again first).
  if (!IsCancellation(flow.error)) return flow.error;
  out.outcome = "retry_later";
  return session.Update(
      {.retry_after = Millis(0), .last_error = flow.error.ToString(), .release_lease = true});
}

Status Orchestrator::OnFailure(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                               const FlowResult& flow, TenantOutcome& out) {
  const int attempts = t.attempts + 1;
  const std::string error = "step " + std::to_string(flow.failed_step) + ": " + flow.error.ToString();
  if (session.status() == S::kUpgrading) {
    out.outcome = "failed";
    const std::string left = TierUpgrade::LeftToDo(service);
    return session.Update({.status = S::kFailed,
                           .attempts = attempts,
                           .last_error = error + (left.empty() ? "" : "; left to do: " + left),
                           .release_lease = true},
                          "upgrade failed");
  }
  if (flow.error.retryable() && attempts < deps_.options->max_tenant_attempts) {
    Millis delay = deps_.options->tenant_backoff.Delay(attempts + 1);
    out.outcome = "retry_later";
    Logger::Warn({deps_.run_id, t.slug, ""}, "attempt " + std::to_string(attempts) +
                                                 " failed transiently; next try in " + FormatDuration(delay));
    return session.Update(
        {.attempts = attempts, .retry_after = delay, .last_error = error, .release_lease = true});
  }
  const std::string why = flow.error.retryable() ? "gave up after " + std::to_string(attempts) + " attempts"
                                                 : std::string("permanent error");
  if (deps_.options->failure_policy == FailurePolicy::kPark) {
    out.outcome = "failed";
    return session.Update(
        {.status = S::kFailed, .attempts = attempts, .last_error = error, .release_lease = true},
        why + "; parked for an operator");
  }
  if (Status s = session.Update({.status = S::kRollingBack, .attempts = attempts, .last_error = error},
                                why + "; rolling back");
      !s.ok())
    return s;
  return RollBack(session, service, out);
}

Status Orchestrator::RollBack(TenantSession& session, ProvisioningService& service, TenantOutcome& out) {
  if (deps_.metrics) deps_.metrics->Rollback();
  FlowResult flow = service.RemoveAll();
  if (!flow.ok) {
    if (flow.error.code() == Code::kAborted) return HandBack(session, flow, out);
    out.outcome = "failed";
    return session.Update({.status = S::kFailed,
                           .last_error = "rollback stopped at step " + std::to_string(flow.failed_step) +
                                         ": " + flow.error.ToString(),
                           .release_lease = true},
                          "rollback failed");
  }
  out.outcome = "rolled_back";
  return session.Update({.status = S::kRolledBack, .release_lease = true},
                        "removed " + std::to_string(flow.applied) + " step(s) in reverse order");
}

Status Orchestrator::Deprovision(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                                 TenantOutcome& out) {
  FlowResult flow = service.RemoveAll();
  if (!flow.ok) {
    if (flow.error.code() == Code::kAborted) return HandBack(session, flow, out);
    out.outcome = "failed";
    return session.Update({.status = S::kFailed,
                           .last_error = "deprovisioning stopped at step " +
                                         std::to_string(flow.failed_step) + ": " + flow.error.ToString(),
                           .release_lease = true},
                          "deprovisioning failed");
  }
  if (deps_.secrets) {
    if (Status s = deps_.secrets->DeleteAll(t.id); !s.ok()) return s;
  }
  out.outcome = "deleted";
  return session.Update({.status = S::kDeleted, .release_lease = true}, "deprovisioned; the row is kept");
}

}  // namespace matih::runner
