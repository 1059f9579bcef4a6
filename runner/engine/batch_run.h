// BatchRun: one pass of `matih-provisioner run`.
//
// Claims up to `limit` due tenants (store/claim_query.h), works them on `workers` threads (each
// with its own database link, reopened within `db_reconnect` when lost), keeps their leases alive
// with a heartbeat thread, and cancels a tenant whose lease was lost -- or could not be renewed
// before `lease - margin`, so that no work goes on past a lease another runner may take. Records
// the run in matih.runs (with its exit code, through Finish) and reports each tenant's outcome.
// A run of one named tenant that cannot claim it says why and records no run. A worker commits
// the writes of the tenants it found in sync together (store/in_sync_batch.h), within
// run.commit_interval, and reports them once that commit has answered.
// Call Execute once, then Finish once, from one thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/orchestrator.h"
#include "store/claim_query.h"
#include "store/database.h"
#include "store/db_link.h"

namespace matih::runner {

struct RunOptions {
  int limit = 50;
  int workers = 4;
  ClaimMode mode = ClaimMode::kAll;
  std::optional<std::string> slug;
  Millis lease{60'000};
  Millis heartbeat{15'000};
  Millis drift_interval{86'400'000};
  Millis db_reconnect{30'000};  // how long a lost database is waited for before giving up
};

struct RunSummary {
  std::string run_id;
  std::vector<TenantOutcome> tenants;
  double seconds = 0;
  double claim_seconds = 0;    // the claim transaction (with the batch's step rows), retries included
  bool database_lost = false;  // some tenant's writes could not reach the database (exit 4)
  // In-process calls abandoned past StepExecutor's cap still run: the run stopped taking tenants,
  // and the process must leave with _exit (no static destructor under those threads).
  bool must_exit = false;
  int failed() const;  // ended FAILED or ROLLED_BACK
  int not_ok() const;  // anything but a good outcome
};

class BatchRun {
 public:
  BatchRun(const Database& db, ServiceDeps deps, RunOptions options)
      : db_(db), deps_(std::move(deps)), options_(std::move(options)) {}

  // Progress callback: (done, total, failures). Called from worker threads, serialized.
  void OnProgress(std::function<void(int, int, int)> cb) { progress_ = std::move(cb); }
  // Setting this stops the run at the next step boundary (signals).
  void SetStopFlag(const std::atomic<bool>* stop) { stop_ = stop; }

  // FailedPrecondition (nothing recorded) when a named tenant cannot be claimed now, naming why;
  // Unavailable when the database cannot be reached within db_reconnect.
  Result<RunSummary> Execute();
  // Records the command's exit code on the run's row (reconnecting within db_reconnect).
  Status Finish(int exit_code);
  // Runs `body` (one whole transaction) on the connection the run claimed with, reopened within
  // db_reconnect: the command's bookkeeping after the run needs no connection of its own.
  Status OnRunLink(const std::function<Status(pqxx::connection&)>& body);

 private:
  const Database& db_;
  ServiceDeps deps_;
  RunOptions options_;
  std::function<void(int, int, int)> progress_;
  const std::atomic<bool>* stop_ = nullptr;
  bool recorded_ = false;         // the run's row exists
  std::unique_ptr<DbLink> main_;  // the claim's connection, kept for Finish and OnRunLink
};

// A random RFC 4122 version 4 UUID.
std::string NewUuid();
// "hostname:pid", the identity a runner leases tenants under.
std::string RunnerIdentity();

}  // namespace matih::runner
