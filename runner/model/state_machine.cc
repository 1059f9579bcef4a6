#include "model/state_machine.h"

#include <algorithm>

namespace matih::runner {
namespace {

struct Name {
  TenantStatus status;
  const char* text;
};

constexpr Name kNames[] = {
    {TenantStatus::kPending, "PENDING"},
    {TenantStatus::kProvisioning, "PROVISIONING"},
    {TenantStatus::kActive, "ACTIVE"},
    {TenantStatus::kUpgrading, "UPGRADING"},
    {TenantStatus::kSuspended, "SUSPENDED"},
    {TenantStatus::kPendingDeletion, "PENDING_DELETION"},
    {TenantStatus::kFailed, "FAILED"},
    {TenantStatus::kDeleted, "DELETED"},
    {TenantStatus::kRollingBack, "ROLLING_BACK"},
    {TenantStatus::kRolledBack, "ROLLED_BACK"},
    {TenantStatus::kDeprovisioning, "DEPROVISIONING"},
};

using S = TenantStatus;

}  // namespace

const char* ToString(TenantStatus s) {
  for (const auto& n : kNames)
    if (n.status == s) return n.text;
  return "UNKNOWN";
}

std::optional<TenantStatus> ParseTenantStatus(std::string_view s) {
  for (const auto& n : kNames)
    if (s == n.text) return n.status;
  return std::nullopt;
}

std::vector<TenantStatus> AllTenantStatuses() {
  std::vector<TenantStatus> all;
  for (const auto& n : kNames) all.push_back(n.status);
  return all;
}

const std::vector<std::pair<TenantStatus, TenantStatus>>& StateMachine::Transitions() {
  static const std::vector<std::pair<S, S>> table = {
      {S::kPending, S::kProvisioning},
      {S::kProvisioning, S::kActive},
      {S::kProvisioning, S::kFailed},
      {S::kProvisioning, S::kRollingBack},
      {S::kFailed, S::kProvisioning},    // retry
      {S::kFailed, S::kUpgrading},       // retry of a failed upgrade, or back to the old tier
      {S::kFailed, S::kRollingBack},     // rollback
      {S::kFailed, S::kDeprovisioning},  // retry of a failed deletion
      {S::kFailed, S::kPendingDeletion},
      {S::kRollingBack, S::kRolledBack},
      {S::kRollingBack, S::kFailed},
      {S::kRolledBack, S::kProvisioning},  // retry
      {S::kRolledBack, S::kPendingDeletion},
      {S::kActive, S::kActive},     // drift corrected
      {S::kActive, S::kUpgrading},  // tier or spec change
      {S::kActive, S::kSuspended},
      {S::kActive, S::kPendingDeletion},
      {S::kUpgrading, S::kActive},
      {S::kUpgrading, S::kFailed},
      {S::kSuspended, S::kActive},  // only a suspended tenant is reactivated
      {S::kSuspended, S::kPendingDeletion},
      {S::kPendingDeletion, S::kDeprovisioning},  // grace period over
      {S::kPendingDeletion, S::kActive},          // deletion cancelled
      {S::kDeprovisioning, S::kDeleted},
      {S::kDeprovisioning, S::kFailed},
      // A cancelled deletion returns the tenant to the status it had before `delete`.
      {S::kPendingDeletion, S::kFailed},
      {S::kPendingDeletion, S::kRolledBack},
      {S::kPendingDeletion, S::kSuspended},
      {S::kPending, S::kDeleted},  // a PENDING tenant cancelled before it was provisioned
  };
  return table;
}

bool StateMachine::Allowed(TenantStatus from, TenantStatus to) {
  const auto& t = Transitions();
  return std::find(t.begin(), t.end(), std::make_pair(from, to)) != t.end();
}

Status StateMachine::Check(TenantStatus from, TenantStatus to) {
  if (Allowed(from, to)) return Status::Ok();
  return FailedPrecondition(std::string("illegal tenant transition ") + ToString(from) + " -> " +
                            ToString(to));
}

}  // namespace matih::runner
