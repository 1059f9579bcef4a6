// InSyncBatch: the writes of drift passes that found their tenants in sync, committed together.
//
// A drift pass over an in-sync tenant changes nothing durable but its row's bookkeeping
// (last_reconciled_at, observed_generation, last_error cleared, crashes reset, lease released) and
// its audit events (the "tenant.claimed" of the pass). A worker holds those of the tenants it
// finished (TenantSession::TakeInSync) for up to run.commit_interval and commits them in ONE
// transaction of two statements: the first locks every tenant whose lease (owner and epoch) is
// still the one it was claimed with and reads its audit chain head (the lease fence); the second
// appends every event, chained per tenant, and writes every tenant row. A tenant whose lease was
// lost is left out, nothing of it written, and answered Aborted (Reason::kLeaseLost). A crash
// before the commit loses only the pass's bookkeeping: the leases expire and the tenants are
// drift-checked again. A connection lost mid-commit is reopened within the link's bound and the
// commit is run again unless it had gone through (found by the chain heads it wrote).
// Used by one worker thread, on that worker's link; not thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/audit_log.h"
#include "store/claim_query.h"
#include "store/db_link.h"

namespace matih::runner {

// What an in-sync drift pass writes for one tenant.
struct InSyncWrite {
  Lease lease;
  int64_t observed_generation = 0;
  std::vector<AuditEvent> events;  // never empty (the pass's "tenant.claimed" at least)
};

class InSyncBatch {
 public:
  InSyncBatch(std::string run_id, std::string runner)
      : run_id_(std::move(run_id)), runner_(std::move(runner)) {}

  // Holds `write` until Commit; `tag` is the caller's name for it (Commit answers by tag).
  void Add(InSyncWrite write, int tag);
  bool empty() const { return held_.empty(); }
  size_t size() const { return held_.size(); }
  // Whether the oldest write held has waited `interval` or more.
  bool Due(Millis interval) const {
    return held_since_ && std::chrono::steady_clock::now() - *held_since_ >= interval;
  }

  struct Answer {
    int tag = 0;
    Status status;      // OK (written), Aborted with Reason::kLeaseLost (nothing written), or the error
    InSyncWrite write;  // what was held, for a caller that writes it another way after an error
  };
  // Writes everything held in one transaction on `link`'s connection and empties the batch.
  // When the transaction fails as a whole every answer carries its error.
  std::vector<Answer> Commit(DbLink& link);

 private:
  std::string run_id_;
  std::string runner_;
  std::vector<std::pair<InSyncWrite, int>> held_;
  std::optional<std::chrono::steady_clock::time_point> held_since_;
};

}  // namespace matih::runner
