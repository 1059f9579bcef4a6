// ClaimQuery: the statements that hand due tenants to a runner.
//
// Three claims run in one transaction, in this order, each reading its own partial index
// (store/migrations/0004_lifecycle.sql) so that it is an index scan whatever the table size:
//   1. onboarding and retries: PENDING; PROVISIONING, UPGRADING, ROLLING_BACK, DEPROVISIONING
//      (a retry, or the resume of a run that died); PENDING_DELETION whose grace period is over;
//      by next_attempt_at;
//   2. upgrades: ACTIVE whose spec generation changed, by next_attempt_at;
//   3. drift: ACTIVE not reconciled within the drift interval, oldest reconciliation first.
// Each selects FOR UPDATE SKIP LOCKED, so runners claiming at the same moment take disjoint
// sets, and sets a lease (owner, epoch + 1, expiry, run) in the same statement. Claims 1 and 2
// count an attempt (so a runner that dies still used one) and start the provisioning deadline
// clock (first_claimed_at) once; every claim counts a crash when the previous lease was never
// released. A
// lease taken over from a dead runner closes that runner's open `runs` row. The step rows of the
// tenants claimed are read in the same transaction, in one statement. Every statement is prepared
// (once per connection). Due also means not
// leased (or the lease expired) and the retry time has come. Times come from the database clock.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/status.h"
#include "model/tenant_record.h"
#include "store/database.h"

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
  // The previous claim of this tenant never released its lease: its runner died (crash, OOM
  // kill, lost host) while working it.
  bool runner_lost = false;
  // Its step records by number, read with those of other claimed tenants (ClaimQuery::ReadSteps:
  // in the claim's transaction unless ClaimOptions::read_steps is off); the lease keeps them
  // current until it is released. Unset: the tenant's work reads them itself.
  std::optional<std::map<int, StepRecord>> steps;
};

enum class ClaimMode { kAll, kPendingOnly, kDriftOnly };

struct ClaimOptions {
  std::string owner;  // runner identity, e.g. "host:pid"
  int limit = 50;
  Millis lease{60'000};
  Millis drift_interval{86'400'000};
  ClaimMode mode = ClaimMode::kAll;
  std::optional<std::string> slug;  // only this tenant
  std::string run_id;               // the run claiming (recorded on the tenant as lease_run)
  // Read the claimed tenants' step rows in the claim's transaction. A batch run turns it off and
  // has its workers read them a share at a time (ReadSteps), beside each other's work.
  bool read_steps = true;
};

class ClaimQuery {
 public:
  static Result<std::vector<ClaimedTenant>> Claim(pqxx::connection& conn, const ClaimOptions& options);
  // Sets the step records of `tenants` (already claimed), in one read-only transaction.
  static Status ReadSteps(pqxx::connection& conn, const std::vector<ClaimedTenant*>& tenants);
  // Why `options.slug` is not due for these options ("is SUSPENDED", "is leased by ... until ..."),
  // read without changing anything; NotFound when there is no such tenant.
  static Result<std::string> WhyNotDue(pqxx::connection& conn, const ClaimOptions& options);
  // Extends the leases still held; returns the tenant ids whose lease was lost (taken over or
  // fenced by an operator). A lease its own runner released (the tenant finished) is not lost.
  static Result<std::vector<std::string>> Heartbeat(pqxx::connection& conn, const std::vector<Lease>& leases,
                                                    Millis lease, Millis statement_timeout = Millis(5'000));
  // EXPLAIN (ANALYZE) of each claim statement these options would run, executed in a transaction
  // that is rolled back: nothing is claimed. For operators and the benchmark (index scans?).
  static Result<std::string> Explain(pqxx::connection& conn, const ClaimOptions& options);
  // The SELECT of each claim (1, 2, 3) with literals in place of its parameters (every tenant,
  // `limit`, the drift interval), for EXPLAIN in tests and benchmarks.
  static std::vector<std::string> ClaimSelects(int limit, Millis drift_interval);
};

}  // namespace matih::runner
