// BatchRun: one pass of `matih-provisioner run`.
//
// Claims up to `limit` due tenants in one statement, works them on `workers` threads (each with
// its own database connection), keeps their leases alive with a heartbeat thread, and cancels a
// tenant whose lease was lost. Records the run in matih.runs and reports each tenant's outcome.
// Call Execute once, from one thread.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/orchestrator.h"
#include "store/claim_query.h"
#include "store/database.h"

namespace matih::runner {

struct RunOptions {
  int limit = 50;
  int workers = 4;
  ClaimMode mode = ClaimMode::kAll;
  std::optional<std::string> slug;
  Millis lease{60'000};
  Millis heartbeat{15'000};
  Millis drift_interval{86'400'000};
};

struct RunSummary {
  std::string run_id;
  std::vector<TenantOutcome> tenants;
  double seconds = 0;
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

  Result<RunSummary> Execute();

 private:
  const Database& db_;
  ServiceDeps deps_;
  RunOptions options_;
  std::function<void(int, int, int)> progress_;
  const std::atomic<bool>* stop_ = nullptr;
};

// A random RFC 4122 version 4 UUID.
std::string NewUuid();
// "hostname:pid", the identity a runner leases tenants under.
std::string RunnerIdentity();

}  // namespace matih::runner
