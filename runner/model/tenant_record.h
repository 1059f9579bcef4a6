// TenantRecord and StepRecord: rows of matih.tenants and matih.tenant_steps as the engine sees
// them. Plain values; no behaviour.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "model/state_machine.h"
#include "model/step_kind.h"

namespace matih::runner {

struct TenantRecord {
  std::string id;
  std::string slug;
  std::string tier;
  std::string region;
  std::string admin_email;
  TenantStatus status = TenantStatus::kPending;
  std::string spec_json = "{}";
  int64_t generation = 1;
  int64_t observed_generation = 0;
  int attempts = 0;
  std::string next_attempt_at;  // timestamps as PostgreSQL prints them (UTC)
  std::string last_error;
  std::string lease_owner;
  int64_t lease_epoch = 0;
  std::string lease_expires_at;
  std::string last_reconciled_at;
  std::string deletion_due_at;
  std::optional<int> resume_from_step;
  int crashes = 0;  // claims whose runner died holding the lease (since the last success)
  // How long ago (database clock) the current provisioning was first claimed; unset when it
  // was not (run.deadline counts from there, across runs).
  std::optional<int64_t> first_claim_age_ms;
  std::string status_before_deletion;  // what `resume` of a PENDING_DELETION tenant returns to
  std::string failed_from;             // a FAILED tenant: the status it failed in (a trigger keeps it)
  std::string created_at;
  std::string updated_at;

  TenantView View() const { return TenantView{id, slug, tier, region, spec_json}; }
};

// Status of one step for one tenant.
enum class StepStatus { kPending, kRunning, kDone, kFailed, kSkipped, kRemoving, kRemoved };
const char* ToString(StepStatus s);
StepStatus ParseStepStatus(const std::string& s);  // unknown text is kPending

struct StepRecord {
  int number = 0;
  std::string name;
  int phase = 0;
  StepStatus status = StepStatus::kPending;
  int attempts = 0;
  StepOutputs outputs;
  std::string last_error;
  std::string diff;
  std::string started_at;
  std::string finished_at;
};

}  // namespace matih::runner
