// The tenant's Terraform state lock (step 50), held from step 50 to step 54 across step calls
// and processes: a lease row in control_plane.terraform_state_locks (tenant, holder run, lease
// epoch, expires_at), fenced by the runner's lease epoch on the tenant (ctx.lease_epoch()).
//
// Rules (one transaction each, serialised per tenant by a transaction-scoped advisory lock in the
// two-int form, so they never meet Terraform's own single-bigint locks on its state rows):
//   - no row: taken;
//   - a row of the same epoch: ours (a retry or a later step of the same claim): expiry renewed;
//   - a row of a LOWER epoch: taken over only once it has expired (a dead runner's), else busy
//     (TransientError: the runner retries);
//   - a row of a HIGHER epoch: a newer runner owns the tenant; we never take it (a permanent
//     FAILED_PRECONDITION: this runner's claim is stale).
// While terraform runs, RunnerGuard additionally holds a session-level advisory lock (two-int
// form) on its own connection, so two runners never run terraform for one tenant at once even
// when the lease rules are bypassed (remove during a rollback).
// Safe to call from any thread.
#pragma once

#include <matih/step.hpp>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>

namespace matih::plugins::terraform {

struct LockHolder {
  std::string run_id;
  long long epoch = 0;
  bool expired = false;
  std::string expires_at;
};

// The current holder, or nullopt (no table or no row). Changes nothing.
std::optional<LockHolder> ReadStateLock(const Context& ctx);
// Takes or renews the lock for ctx's run and epoch (rules above); answers the holder it wrote.
// Step 50 takes it; steps 51-54 call it again before they change anything: it verifies that
// this claim still holds the lock (same epoch) and renews it, or takes it when it is free (a
// drift pass over a converged tenant, where step 50 found the lock free and in sync), and
// never takes it from another live claim or a newer one.
LockHolder AcquireStateLock(const Context& ctx);
// Deletes the row when held by this epoch (or, with `and_older`, by a lower one: a claim that no
// longer holds the tenant, as remove of step 50 wants); fine when absent.
void ReleaseStateLock(const Context& ctx, bool and_older = false);

// Runs `body`; when it throws anything but a retryable error (unavailable, aborted, deadline), releases the
// lock of this epoch before rethrowing (the failure paths of steps 51-54). Another claim's lock is never
// touched.
template <typename Body>
void ReleasingOnFailure(const Context& ctx, Body&& body) {
  try {
    body();
  } catch (const Error& e) {
    if (e.code() != MATIH_STATUS_UNAVAILABLE && e.code() != MATIH_STATUS_ABORTED &&
        e.code() != MATIH_STATUS_DEADLINE_EXCEEDED) {
      try {
        ReleaseStateLock(ctx);
      } catch (...) {  // the lock expires on its own; the first error is the one to report
      }
    }
    throw;
  }
}

// A session-level advisory lock (two-int form) on the tenant for the life of the object, on a
// connection of its own. TransientError when another runner holds it.
class TerraformRunGuard {
 public:
  explicit TerraformRunGuard(const Context& ctx);
  ~TerraformRunGuard();
  TerraformRunGuard(const TerraformRunGuard&) = delete;
  TerraformRunGuard& operator=(const TerraformRunGuard&) = delete;

 private:
  std::unique_ptr<pqxx::connection> connection_;
  std::string tenant_id_;
};

}  // namespace matih::plugins::terraform
