// StateMachine: the tenant statuses and the only legal moves between them.
//
// The one place in code for the table in DESIGN.md ("Tenant state machine"); the database
// trigger of store/migrations/0001_core.sql holds the same table and a test checks they agree.
// Stateless; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace matih::runner {

enum class TenantStatus {
  kPending,
  kProvisioning,
  kActive,
  kUpgrading,
  kSuspended,
  kPendingDeletion,
  kFailed,
  kDeleted,
  kRollingBack,
  kRolledBack,
  kDeprovisioning,
};

const char* ToString(TenantStatus s);  // "PENDING_DELETION"
std::optional<TenantStatus> ParseTenantStatus(std::string_view s);
std::vector<TenantStatus> AllTenantStatuses();

class StateMachine {
 public:
  static bool Allowed(TenantStatus from, TenantStatus to);
  // OK, or FailedPrecondition "illegal tenant transition ACTIVE -> PENDING".
  static Status Check(TenantStatus from, TenantStatus to);
  static const std::vector<std::pair<TenantStatus, TenantStatus>>& Transitions();
  // Statuses a runner ends a tenant in that count as "ended well" for the exit code.
  static bool IsBadEnd(TenantStatus s) {
    return s == TenantStatus::kFailed || s == TenantStatus::kRolledBack;
  }
};

}  // namespace matih::runner
