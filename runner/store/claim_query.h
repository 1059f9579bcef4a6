// ClaimQuery: the one statement that hands due tenants to a runner.
//
// A CTE selects due tenants FOR UPDATE SKIP LOCKED, so runners claiming at the same moment take
// disjoint sets, and sets a lease (owner, epoch + 1, expiry) in the same statement. Due means:
// not leased (or the lease expired) and the retry time has come, and one of: PENDING;
// PROVISIONING, UPGRADING, ROLLING_BACK, DEPROVISIONING (a retry, or the resume of a run that
// died); PENDING_DELETION whose grace period is over; ACTIVE whose spec generation changed or
// whose last reconcile is older than the drift interval. Times come from the database clock only.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/status.h"
#include "store/database.h"
#include "store/tenant_record.h"

namespace matih::runner {

// The fence every later write of a claimed tenant is checked against.
struct Lease {
  std::string tenant_id;
  std::string owner;
  int64_t epoch = 0;
};

struct ClaimedTenant {
  TenantRecord tenant;
  Lease lease;
};

enum class ClaimMode { kAll, kPendingOnly, kDriftOnly };

struct ClaimOptions {
  std::string owner;  // runner identity, e.g. "host:pid:run"
  int limit = 50;
  Millis lease{60'000};
  Millis drift_interval{86'400'000};
  ClaimMode mode = ClaimMode::kAll;
  std::optional<std::string> slug;  // only this tenant
};

class ClaimQuery {
 public:
  static Result<std::vector<ClaimedTenant>> Claim(pqxx::connection& conn, const ClaimOptions& options);
  // Extends the leases still held; returns the tenant ids whose lease was lost.
  static Result<std::vector<std::string>> Heartbeat(pqxx::connection& conn, const std::vector<Lease>& leases,
                                                    Millis lease);
};

}  // namespace matih::runner
