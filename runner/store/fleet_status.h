// FleetStatus: the whole fleet at a glance, read for `matih-provisioner status` and the run's
// gauges.
//
// Every figure is an aggregate (GROUP BY, count, min) or a short LIMITed list read through an
// index (0005_fleet_status.sql), never a load of every tenant, so the read stays well under a
// second at 100,000 tenants. All parts are read in one read-only REPEATABLE READ transaction:
// one consistent snapshot, so the counts and the lists agree. Times are the database's, as ISO
// text in UTC. Safe from any thread; each call opens its own connection.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/status.h"
#include "store/database.h"

namespace matih::runner {

struct FleetStatusOptions {
  Millis drift_interval{86'400'000};  // an ACTIVE tenant not reconciled for longer is overdue
  int list_limit = 20;                // rows per list (troubled, overdue tenants; failing steps)
  int runs_limit = 10;                // the most recent runs shown
};

struct TenantCount {
  std::string status;
  std::string tier;
  int64_t count = 0;
};

struct PendingTenant {
  std::string slug;
  std::string tier;
  std::string created_at;
  int64_t waiting_seconds = 0;
};

// A tenant FAILED or ROLLED_BACK, with the step that failed last (from its audit trail).
struct TroubledTenant {
  std::string slug;
  std::string tier;
  std::string status;
  std::string since;  // updated_at
  std::optional<int> step_number;
  std::string step_name;
  std::string last_error;
};

// An ACTIVE tenant past its drift interval; last_reconciled_at empty = never reconciled.
struct OverdueTenant {
  std::string slug;
  std::string tier;
  std::string last_reconciled_at;
};

struct RunRow {
  std::string id;
  std::string runner;
  std::string mode;
  std::string started_at;
  std::string finished_at;        // empty while running (or when the runner died)
  std::optional<double> seconds;  // finished - started
  int tenants_claimed = 0;
  int tenants_ok = 0;
  int tenants_failed = 0;
  std::optional<int> exit_code;  // the process's exit code, when it recorded one
  std::string outcome;           // ok | tenants_failed | error | unfinished
};

struct LeaseHolder {
  std::string owner;
  int64_t tenants = 0;
  std::string earliest_expiry;
  std::string latest_expiry;
};

struct StepFailures {
  int step_number = 0;
  std::string step_name;
  int64_t failures = 0;  // step.failed events in the last 24 h
  int64_t tenants = 0;   // distinct tenants they hit
};

struct FleetStatus {
  std::string as_of;  // the snapshot's time
  int64_t total = 0;
  std::vector<TenantCount> counts;  // by status and tier, only non-zero pairs
  int64_t pending = 0;
  std::optional<PendingTenant> oldest_pending;
  int64_t troubled_total = 0;            // FAILED + ROLLED_BACK
  std::vector<TroubledTenant> troubled;  // most recent first, at most list_limit
  int64_t overdue_total = 0;
  std::vector<OverdueTenant> overdue;       // longest overdue first, at most list_limit
  std::vector<RunRow> runs;                 // newest first
  std::vector<LeaseHolder> leases;          // live leases (not expired), by owner
  std::vector<StepFailures> failing_steps;  // most failures first
};

class FleetStatusQuery {
 public:
  // Reads the fleet's status; Unavailable when the database cannot be reached.
  static Result<FleetStatus> Read(const Database& db, const FleetStatusOptions& options);

  // Tenants by status (every status present, zero when none) and the creation time of the
  // oldest PENDING tenant (Unix seconds), for the run's gauges. One aggregate query.
  struct Gauges {
    std::map<std::string, int64_t> by_status;
    std::optional<double> oldest_pending_created;
  };
  static Result<Gauges> ReadGauges(pqxx::connection& conn);
};

}  // namespace matih::runner
