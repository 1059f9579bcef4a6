#include "engine/orchestrator.h"

#include "engine/tier_upgrade.h"
#include "secrets/secret_store.h"
#include "store/tenant_store.h"
#include "telemetry/logger.h"
#include "telemetry/metrics.h"

namespace matih::runner {

const char* ToString(Outcome o) {
  switch (o) {
    case Outcome::kActive: return "active";
    case Outcome::kUpgraded: return "upgraded";
    case Outcome::kDriftCorrected: return "drift_corrected";
    case Outcome::kInSync: return "in_sync";
    case Outcome::kRetryLater: return "retry_later";
    case Outcome::kFailed: return "failed";
    case Outcome::kRolledBack: return "rolled_back";
    case Outcome::kDeleted: return "deleted";
    case Outcome::kDriftFailed: return "drift_failed";
    case Outcome::kLeaseLost: return "lease_lost";
    case Outcome::kNotStarted: return "not_started";
    case Outcome::kError: return "error";
  }
  return "error";
}

namespace {

using S = TenantStatus;

Result<std::map<int, StepRecord>> LoadRecords(DbLink& link, const std::string& tenant_id) {
  std::map<int, StepRecord> records;
  Status s = link.Retry([&](pqxx::connection& conn) {
    return Guard("read step records", [&] {
      records.clear();
      pqxx::nontransaction tx(conn);
      for (auto& rec : TenantStore::ReadSteps(tx, tenant_id)) records[rec.number] = std::move(rec);
      return Status::Ok();
    });
  });
  if (!s.ok()) return s;
  return records;
}

// Statuses whose work counts attempts; a tenant in one of them past run.max_attempts at its claim
// used up its attempts without an outcome: its runner died every time.
bool CountsAttempts(TenantStatus s) {
  return s == S::kPending || s == S::kProvisioning || s == S::kUpgrading || s == S::kRollingBack ||
         s == S::kDeprovisioning || s == S::kPendingDeletion;
}

// Whether this claim counted an attempt (store/claim_query.h: onboarding and upgrades do).
bool AttemptCounted(const TenantRecord& t) {
  return CountsAttempts(t.status) || (t.status == S::kActive && t.generation != t.observed_generation);
}

// "crashed 3 times in step 3 gamma: the runner was lost": the step left RUNNING (or REMOVING)
// is the one that was running when the runner died.
std::string CrashReason(const TenantRecord& t, const std::map<int, StepRecord>& records) {
  std::string where;
  for (const auto& [number, rec] : records)
    if (rec.status == StepStatus::kRunning || rec.status == StepStatus::kRemoving) {
      where = " in step " + std::to_string(number) + " " + rec.name;
      break;
    }
  return "crashed " + std::to_string(std::max(t.crashes, 1)) + " time" + (t.crashes == 1 ? "" : "s") + where +
         ": the runner was lost (" + std::to_string(t.attempts - 1) + " attempts used, run.max_attempts " +
         "reached)";
}

}  // namespace

TenantOutcome Orchestrator::Process(DbLink& link, ClaimedTenant& claimed, const std::atomic<bool>* cancel,
                                    const std::atomic<bool>* lease_trouble,
                                    std::optional<InSyncWrite>* in_sync) {
  const TenantRecord& t = claimed.tenant;
  lease_trouble_ = lease_trouble;
  TenantOutcome out;
  out.slug = t.slug;
  out.final_status = t.status;
  TenantSession session(link, claimed.lease, t.status, deps_.run_id, deps_.runner);
  AuditEvent claim;
  claim.event = "tenant.claimed";
  claim.details = {
      {"status", ToString(t.status)}, {"epoch", claimed.lease.epoch}, {"generation", t.generation}};
  if (claimed.runner_lost) claim.details["previous_runner_lost"] = true;
  session.Audit(claim);

  // The claim read the batch's step rows (store/claim_query.h); a claim without them reads its own.
  auto records =
      claimed.steps ? Result<std::map<int, StepRecord>>(std::move(*claimed.steps)) : LoadRecords(link, t.id);
  claimed.steps.reset();
  Status s = records.status();
  if (records.ok()) {
    const bool poisoned = AttemptCounted(t) && t.attempts > deps_.options->max_tenant_attempts;
    // A drift pass that killed its runner max_attempts times in a row is paused (the tenant stays
    // ACTIVE), so that it cannot cut every later batch short.
    const bool drift_poisoned = !poisoned && t.status == S::kActive &&
                                t.generation == t.observed_generation && claimed.runner_lost &&
                                t.crashes >= deps_.options->max_tenant_attempts;
    const std::string crash = poisoned || drift_poisoned ? CrashReason(t, *records) : "";
    ProvisioningService service(deps_, session, t, std::move(*records), cancel);
    if (poisoned) {
      Logger::Error({deps_.run_id, t.slug, ""}, crash + "; the failure policy applies");
      s = Quarantine(session, service, t, crash, out);
    } else if (drift_poisoned) {
      const Millis pause = deps_.options->tenant_backoff.max_backoff;
      const std::string why = "drift pass " + crash + "; next drift pass in " + FormatDuration(pause);
      Logger::Error({deps_.run_id, t.slug, ""}, why);
      AuditEvent e;
      e.event = "drift.paused";
      e.details = {{"reason", why}};
      session.Audit(e);
      out.outcome = Outcome::kDriftFailed;
      s = session.Update(
          {.retry_after = pause, .last_error = why, .release_lease = true, .reset_crashes = true});
    } else {
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
        case S::kRollingBack: s = RollBack(session, service, t, out); break;
        case S::kPendingDeletion:
          s = session.Update({.status = S::kDeprovisioning}, "grace period over");
          if (s.ok()) s = Deprovision(session, service, t, out);
          break;
        case S::kDeprovisioning: s = Deprovision(session, service, t, out); break;
        default:
          s = FailedPrecondition(std::string("a tenant in status ") + ToString(t.status) +
                                 " is never claimed");
          break;
      }
    }
  }
  // An in-sync drift pass: its writes go to the caller's batch when they are only bookkeeping.
  bool held = false;
  if (s.ok() && in_sync && out.outcome == Outcome::kInSync) {
    *in_sync = session.TakeInSync();
    held = in_sync->has_value();
  }
  if (s.ok() && !held) s = session.Flush();
  out.commits = session.commits();
  out.final_status = session.status();
  if (!s.ok()) {
    out.error = s.ToString();
    const bool lease_lost =
        s.reason() == Reason::kLeaseLost || session.lease_lost() || (lease_trouble && lease_trouble->load());
    out.database_lost = !lease_lost && s.code() == Code::kUnavailable;
    out.outcome = lease_lost ? Outcome::kLeaseLost : Outcome::kError;
    if (out.outcome == Outcome::kError && !out.database_lost) {
      // Try to leave the tenant for a later run instead of holding the lease until it expires.
      // (Writes that could not reach the database are left to the lease.)
      TenantSession release(link, claimed.lease, session.status(), deps_.run_id, deps_.runner);
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
                                                 ToString(out.final_status) + " (" + ToString(out.outcome) +
                                                 ")");
  if (deps_.metrics && !held) deps_.metrics->TenantProcessed(ToString(out.outcome));
  return out;
}

Status Orchestrator::Quarantine(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                                const std::string& reason, TenantOutcome& out) {
  const int attempts = t.attempts - 1;  // this claim is not an attempt: it only applies the policy
  switch (t.status) {
    case S::kPending:
    case S::kProvisioning: {
      if (t.status == S::kPending)
        if (Status s = session.Update({.status = S::kProvisioning}, "claimed for provisioning"); !s.ok())
          return s;
      if (deps_.options->failure_policy == FailurePolicy::kPark) {
        out.outcome = Outcome::kFailed;
        return session.Update(
            {.status = S::kFailed, .attempts = attempts, .last_error = reason, .release_lease = true},
            reason + "; parked for an operator");
      }
      if (Status s = session.Update({.status = S::kRollingBack, .attempts = attempts, .last_error = reason},
                                    reason + "; rolling back");
          !s.ok())
        return s;
      return RollBack(session, service, t, out);
    }
    case S::kActive:
      // An upgrade whose claims all died before it was recorded as UPGRADING.
      if (Status s = session.Update({.status = S::kUpgrading}, "spec generation changed"); !s.ok()) return s;
      out.outcome = Outcome::kFailed;
      return session.Update(
          {.status = S::kFailed, .attempts = attempts, .last_error = reason, .release_lease = true},
          reason + "; upgrade parked for an operator");
    case S::kPendingDeletion:
      // The deletion crashed before it was recorded as DEPROVISIONING: park it there.
      if (Status s = session.Update({.status = S::kDeprovisioning}, "grace period over"); !s.ok()) return s;
      [[fallthrough]];
    default:  // UPGRADING, ROLLING_BACK, DEPROVISIONING: parked for an operator
      out.outcome = Outcome::kFailed;
      return session.Update(
          {.status = S::kFailed, .attempts = attempts, .last_error = reason, .release_lease = true},
          reason + "; parked for an operator");
  }
}

Status Orchestrator::Provision(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                               ConvergeMode mode, TenantOutcome& out) {
  FlowResult flow = service.Converge(mode);
  // A tier change that moved objects: only now are they removed from where they were.
  if (flow.ok) flow = TierUpgrade::RemoveLeftBehind(service, true);
  if (!flow.ok) {
    if (flow.session_failed) return flow.error;
    if (flow.cancelled()) return HandBack(session, t, flow, out);
    return OnFailure(session, service, t, flow, out);
  }
  const bool upgrade = session.status() == S::kUpgrading;
  out.outcome = upgrade ? Outcome::kUpgraded : Outcome::kActive;
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
    if (flow.session_failed) return flow.error;
    if (flow.cancelled()) return HandBack(session, t, flow, out);
    // An ACTIVE tenant stays ACTIVE; the failed step is recorded and retried after a backoff.
    out.outcome = Outcome::kDriftFailed;
    return session.Update({.retry_after = deps_.options->tenant_backoff.Delay(2),
                           .last_error = "drift correction failed at step " +
                                         std::to_string(flow.failed_step) + ": " + flow.error.ToString(),
                           .release_lease = true,
                           .reset_crashes = true});
  }
  TenantUpdate done{.last_error = "",
                    .observed_generation = t.generation,
                    .mark_reconciled = true,
                    .release_lease = true,
                    .reset_crashes = true};
  if (flow.applied > 0) {
    out.outcome = Outcome::kDriftCorrected;
    done.status = S::kActive;
    return session.Update(done, "drift corrected in " + std::to_string(flow.applied) + " step(s)");
  }
  out.outcome = Outcome::kInSync;
  return session.Update(done);
}

Status Orchestrator::HandBack(TenantSession& session, const TenantRecord& t, const FlowResult& flow,
                              TenantOutcome& out) {
  // A lost lease (or a heartbeat that could not renew it): nothing more may be written; the
  // lease expires and the next claim takes the tenant. A stop request: give the tenant back as
  // it is, due at once, its attempt not counted, so the next run resumes it (the in-flight step
  // is observed again first).
  if (lease_trouble_ && lease_trouble_->load())
    return Status(Code::kAborted, "lease lost: " + flow.error.message(), Reason::kLeaseLost);
  out.outcome = Outcome::kRetryLater;
  TenantUpdate back{.retry_after = Millis(0), .last_error = flow.error.ToString(), .release_lease = true};
  if (AttemptCounted(t) && t.attempts > 0) back.attempts = t.attempts - 1;
  return session.Update(back);
}

Status Orchestrator::OnFailure(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                               const FlowResult& flow, TenantOutcome& out) {
  const int attempts = AttemptCounted(t) ? t.attempts : t.attempts + 1;  // counted at the claim
  const std::string error = "step " + std::to_string(flow.failed_step) + ": " + flow.error.ToString();
  if (session.status() == S::kUpgrading) {
    out.outcome = Outcome::kFailed;
    const std::string left = TierUpgrade::LeftToDo(service);
    return session.Update({.status = S::kFailed,
                           .attempts = attempts,
                           .last_error = error + (left.empty() ? "" : "; left to do: " + left),
                           .release_lease = true},
                          "upgrade failed");
  }
  if (flow.error.retryable() && attempts < deps_.options->max_tenant_attempts) {
    Millis delay = deps_.options->tenant_backoff.Delay(attempts + 1);
    out.outcome = Outcome::kRetryLater;
    Logger::Warn({deps_.run_id, t.slug, ""}, "attempt " + std::to_string(attempts) +
                                                 " failed transiently; next try in " + FormatDuration(delay));
    return session.Update(
        {.attempts = attempts, .retry_after = delay, .last_error = error, .release_lease = true});
  }
  const std::string why = flow.error.retryable() ? "gave up after " + std::to_string(attempts) + " attempts"
                                                 : std::string("permanent error");
  if (deps_.options->failure_policy == FailurePolicy::kPark) {
    out.outcome = Outcome::kFailed;
    return session.Update(
        {.status = S::kFailed, .attempts = attempts, .last_error = error, .release_lease = true},
        why + "; parked for an operator");
  }
  if (Status s = session.Update({.status = S::kRollingBack, .attempts = attempts, .last_error = error},
                                why + "; rolling back");
      !s.ok())
    return s;
  return RollBack(session, service, t, out);
}

Status Orchestrator::RollBack(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                              TenantOutcome& out) {
  if (deps_.metrics) deps_.metrics->Rollback();
  FlowResult flow = service.RemoveAll();
  if (!flow.ok) {
    if (flow.session_failed) return flow.error;
    if (flow.cancelled()) return HandBack(session, t, flow, out);
    out.outcome = Outcome::kFailed;
    return session.Update({.status = S::kFailed,
                           .last_error = "rollback stopped at step " + std::to_string(flow.failed_step) +
                                         ": " + flow.error.ToString(),
                           .release_lease = true},
                          "rollback failed");
  }
  out.outcome = Outcome::kRolledBack;
  return session.Update({.status = S::kRolledBack, .release_lease = true},
                        "removed " + std::to_string(flow.applied) + " step(s) in reverse order");
}

Status Orchestrator::Deprovision(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                                 TenantOutcome& out) {
  FlowResult flow = service.RemoveAll();
  if (!flow.ok) {
    if (flow.session_failed) return flow.error;
    if (flow.cancelled()) return HandBack(session, t, flow, out);
    out.outcome = Outcome::kFailed;
    return session.Update({.status = S::kFailed,
                           .last_error = "deprovisioning stopped at step " +
                                         std::to_string(flow.failed_step) + ": " + flow.error.ToString(),
                           .release_lease = true},
                          "deprovisioning failed");
  }
  if (deps_.secrets) {
    const LeaseFence fence{session.lease().owner, session.lease().epoch};
    if (Status s = deps_.secrets->DeleteAllFenced(fence, t.id); !s.ok()) return s;
  }
  out.outcome = Outcome::kDeleted;
  return session.Update({.status = S::kDeleted, .release_lease = true}, "deprovisioned; the row is kept");
}

}  // namespace matih::runner
