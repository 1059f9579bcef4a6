// Orchestrator: owns the tenant state machine for one claimed tenant.
//
// Picks what to do from the tenant's status (provision, resume, upgrade, drift pass, roll back,
// deprovision), hands the steps to a ProvisioningService, and moves the tenant to where the
// outcome says: ACTIVE; back to PROVISIONING with a tenant-level backoff after a transient
// failure; the failure policy (rollback or park) after a permanent one or too many attempts.
// Every move goes through the session, so it is fenced by the lease and audited.
// One instance per worker thread.
#pragma once

#include <atomic>
#include <string>

#include "engine/provisioning_service.h"
#include "store/claim_query.h"

namespace matih::runner {

struct TenantOutcome {
  std::string slug;
  TenantStatus final_status = TenantStatus::kPending;
  // active | drift_corrected | in_sync | retry_later | failed | rolled_back | deleted |
  // drift_failed | lease_lost | error
  std::string outcome;
  std::string error;
  int commits = 0;
  bool bad_end() const { return StateMachine::IsBadEnd(final_status) && outcome != "lease_lost"; }
  bool ok() const {
    return outcome == "active" || outcome == "drift_corrected" || outcome == "in_sync" ||
           outcome == "deleted" || outcome == "upgraded";
  }
};

class Orchestrator {
 public:
  explicit Orchestrator(ServiceDeps deps) : deps_(std::move(deps)) {}

  // Works one claimed tenant to the end of this run. `conn` belongs to the calling thread.
  TenantOutcome Process(pqxx::connection& conn, const ClaimedTenant& claimed,
                        const std::atomic<bool>* cancel);

 private:
  Status Provision(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                   ConvergeMode mode, TenantOutcome& out);
  Status Reconcile(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                   TenantOutcome& out);
  Status RollBack(TenantSession& session, ProvisioningService& service, TenantOutcome& out);
  Status Deprovision(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                     TenantOutcome& out);
  Status HandBack(TenantSession& session, const FlowResult& flow, TenantOutcome& out);
  Status OnFailure(TenantSession& session, ProvisioningService& service, const TenantRecord& t,
                   const FlowResult& flow, TenantOutcome& out);

  ServiceDeps deps_;
};

}  // namespace matih::runner
