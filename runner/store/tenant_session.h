// TenantSession: every write a runner makes for one claimed tenant, fenced by its lease.
//
// Writes are queued and land together in Flush(): one transaction that first checks the lease
// (owner and epoch) with the tenant row locked, then writes step records, the tenant row and the
// audit events. A runner whose lease was taken over gets Aborted("lease lost"), lease_lost(),
// and nothing of the batch is written. With a DbLink, a connection lost mid-flush is reopened
// (within run.db_reconnect) and the whole transaction runs again. Batching is what keeps the commit count
// low: an applied step of a kind that is not adoptable costs one commit (its intent rides with the
// previous step's result), a step of an adoptable kind (MATIH_KIND_ADOPTABLE) costs none of its own:
// Checkpoint() holds its intent and result until run.commit_interval has passed since the oldest
// write held, or a later Flush() (the next non-adoptable step's intent, the end of the pass). A drift
// pass over an in-sync tenant costs one commit in all, or a share of one: its writes may be taken
// out (TakeInSync) and committed with other tenants' (store/in_sync_batch.h). Not thread-safe: one session
// belongs to the worker thread working that tenant.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/status.h"
#include "model/tenant_record.h"
#include "store/audit_log.h"
#include "store/claim_query.h"
#include "store/db_link.h"
#include "store/in_sync_batch.h"

namespace matih::runner {

struct TenantUpdate {
  std::optional<TenantStatus> status{};
  std::optional<int> attempts{};
  std::optional<Millis> retry_after{};      // next_attempt_at = now() + this
  std::optional<std::string> last_error{};  // "" clears it
  std::optional<int64_t> observed_generation{};
  bool mark_reconciled = false;  // last_reconciled_at = now()
  bool clear_resume_from = false;
  bool release_lease = false;
  bool reset_crashes =
      false;  // a pass ended with an outcome (statuses ACTIVE, ROLLED_BACK, DELETED reset too)
};

class TenantSession {
 public:
  TenantSession(pqxx::connection& conn, Lease lease, TenantStatus status, std::string run_id,
                std::string runner)
      : conn_(&conn),
        lease_(std::move(lease)),
        status_(status),
        run_id_(std::move(run_id)),
        runner_(std::move(runner)) {}
  // A session whose flushes survive a lost connection: the link reconnects within its bound
  // and the fenced transaction is run again.
  TenantSession(DbLink& link, Lease lease, TenantStatus status, std::string run_id, std::string runner)
      : conn_(nullptr),
        link_(&link),
        lease_(std::move(lease)),
        status_(status),
        run_id_(std::move(run_id)),
        runner_(std::move(runner)) {}

  TenantStatus status() const { return status_; }
  const Lease& lease() const { return lease_; }

  // Queues a step record (the latest per step number wins).
  void SetStep(const StepRecord& record) {
    Hold();
    steps_[record.number] = record;
  }
  void Audit(AuditEvent event) {
    Hold();
    events_.push_back(std::move(event));
  }
  // Queues a tenant change; a status change is checked against the StateMachine now and
  // audited as a "transition" event.
  Status Update(const TenantUpdate& update, const std::string& reason = "");
  bool HasPending() const { return !steps_.empty() || !events_.empty() || tenant_.has_value(); }

  // Writes what is queued in one fenced transaction. Aborted when the lease was lost (then
  // lease_lost() is true and nothing was written); Unavailable when the database is gone.
  Status Flush();
  // Flush() when the oldest write queued since the last commit has waited `interval` or more;
  // otherwise keeps everything queued and answers OK. For writes a crash may lose because the
  // next run observes their effect again (the intent and result of an adoptable step).
  Status Checkpoint(Millis interval);
  // The queued writes of a drift pass that found the tenant in sync, taken out of the session to
  // be committed with other tenants' (store/in_sync_batch.h), when the queue holds exactly that:
  // audit events and the update Orchestrator makes for an in-sync tenant (no step record, no
  // status change, no attempt or backoff). nullopt otherwise, and the queue is left as it was.
  std::optional<InSyncWrite> TakeInSync();
  bool lease_lost() const { return lease_lost_; }
  int commits() const { return commits_; }

 private:
  pqxx::connection* conn_;
  DbLink* link_ = nullptr;
  Lease lease_;
  TenantStatus status_;
  std::string run_id_;
  std::string runner_;
  std::map<int, StepRecord> steps_;
  std::vector<AuditEvent> events_;
  std::optional<TenantUpdate> tenant_{};
  // Every status moved through since the last flush, in order: the flush writes each hop, so the
  // database's transition check and its triggers see PENDING_DELETION -> DEPROVISIONING -> DELETED,
  // never the collapsed PENDING_DELETION -> DELETED.
  std::vector<TenantStatus> hops_;
  int commits_ = 0;
  bool lease_lost_ = false;
  // When the oldest write queued since the last commit was queued (unset: nothing queued).
  std::optional<std::chrono::steady_clock::time_point> held_since_;
  std::string StepsJson() const;  // the queued step records as the steps statement's $2
  void Hold() {
    if (!held_since_) held_since_ = std::chrono::steady_clock::now();
  }
};

}  // namespace matih::runner
