// Orchestrator: owns the tenant state machine for one claimed tenant.
//
// Picks what to do from the tenant's status (provision, resume, upgrade, drift pass, roll back,
// deprovision), hands the steps to a ProvisioningService, and moves the tenant to where the
// outcome says: ACTIVE; back to PROVISIONING with a tenant-level backoff after a transient
// failure; the failure policy (rollback or park) after a permanent one or too many attempts.
// Every move goes through the session, so it is fenced by the lease and audited. Attempts are
// counted when the tenant is claimed (store/claim_query.h), so a runner that dies uses one too;
// a tenant claimed past run.max_attempts is quarantined with the failure policy and the reason.
// One instance per worker thread.
#pragma once

#include <atomic>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "engine/provisioning_service.h"
#include "store/claim_query.h"
#include "store/in_sync_batch.h"

namespace matih::runner {

// How one tenant's work in a run ended. Its name (ToString) is what logs, the tenants_processed
// metric, `run` output (table and JSON) and the runs table show.
enum class Outcome {
  kActive,          // "active": provisioned
  kUpgraded,        // "upgraded": a spec or tier change applied
  kDriftCorrected,  // "drift_corrected"
  kInSync,          // "in_sync": a drift pass found nothing to do
  kRetryLater,      // "retry_later": a transient failure, or handed back on stop
  kFailed,          // "failed": the failure policy parked it
  kRolledBack,      // "rolled_back"
  kDeleted,         // "deleted"
  kDriftFailed,     // "drift_failed": a drift pass failed, or was paused
  kLeaseLost,       // "lease_lost": another runner or an operator took the tenant
  kNotStarted,      // "not_started": the run stopped or lost the database before it began
  kError,           // "error": the runner could not finish its work on the tenant
};
const char* ToString(Outcome o);
// For tests and diagnostics that hold the printed name: compares the name.
inline bool operator==(Outcome o, std::string_view name) { return name == ToString(o); }
inline std::ostream& operator<<(std::ostream& out, Outcome o) { return out << ToString(o); }

struct TenantOutcome {
  std::string slug;
  TenantStatus final_status = TenantStatus::kPending;
  Outcome outcome = Outcome::kError;
  std::string error;
  int commits = 0;
  bool database_lost = false;  // its writes could not reach the database (left to its lease)
  bool bad_end() const { return StateMachine::IsBadEnd(final_status) && outcome != Outcome::kLeaseLost; }
  bool ok() const {
    return outcome == Outcome::kActive || outcome == Outcome::kDriftCorrected ||
           outcome == Outcome::kInSync || outcome == Outcome::kDeleted || outcome == Outcome::kUpgraded;
  }
};

class Orchestrator {
 public:
  explicit Orchestrator(ServiceDeps deps) : deps_(std::move(deps)) {}

  // Works one claimed tenant to the end of this run on the calling thread's link. `cancel`
  // stops the work at the next call boundary (and cancels the call in flight); `lease_trouble`,
  // raised with it when the heartbeat could not renew the lease in time, also means nothing more
  // may be written for the tenant.
  // The claim's step records, when it read them, are moved into the work: `claimed.steps` is
  // left unset, and the records live only while the tenant is worked.
  // With `in_sync` set, the writes of a drift pass that found the tenant in sync are not
  // committed here but handed to the caller there (store/in_sync_batch.h): the outcome is then
  // final only once the caller has committed them (it counts the tenant in the metrics too).
  TenantOutcome Process(DbLink& link, ClaimedTenant& claimed, const std::atomic<bool>* cancel,
                        const std::atomic<bool>* lease_trouble = nullptr,
                        std::optional<InSyncWrite>* in_sync = nullptr);

 private:
  Status Provision(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                   ConvergeMode mode, TenantOutcome& out);
  Status Reconcile(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                   TenantOutcome& out);
  Status RollBack(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                  TenantOutcome& out);
  Status Deprovision(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                     TenantOutcome& out);
  Status HandBack(TenantSession& session, const TenantRecord& t, const FlowResult& flow, TenantOutcome& out);
  Status OnFailure(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                   const FlowResult& flow, TenantOutcome& out);
  // The tenant used up run.max_attempts without an outcome (its runner died each time): the
  // failure policy applies, with `reason` naming the step that was running.
  Status Quarantine(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                    const std::string& reason, TenantOutcome& out);

  ServiceDeps deps_;
  const std::atomic<bool>* lease_trouble_ = nullptr;
};

}  // namespace matih::runner
