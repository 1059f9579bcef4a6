// StepExecutor: one step-kind call with a timeout, and the retry loop around it.
//
// A kind that stops on its deadline (a process-isolated one: its worker is killed) is called on
// the caller's thread. Any other (in_process) call runs on a helper thread of the calling thread
// (kept for its next call, replaced when a call is abandoned), so a plugin that
// ignores its deadline cannot hold the worker: at the timeout the executor raises the call's
// cancel flag, waits a short grace period, then abandons the call and reports
// DEADLINE_EXCEEDED. An abandoned call owns a snapshot of its inputs (it holds the caller's
// immutable shared outputs and settings, or copies of borrowed ones), so nothing it reads is
// freed under it. While an abandoned call of a step is alive, no
// other call of the same step for the same tenant starts (the executor waits a grace period for
// it, then answers DEADLINE_EXCEEDED without calling). Past a cap of abandoned calls alive at
// once, MustStop() turns true for good: the process holds threads it cannot stop and should
// stop claiming, flush, and leave with _exit (static destructors must not run under them).
// Transient errors are retried per the step's RetryPolicy with backoff and jitter; the wait is
// cut short when the tenant is cancelled.
// Safe from any thread; the only state kept between calls is the registry of abandoned calls.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "engine/retry_policy.h"
#include "model/step_kind.h"

namespace matih::runner {

enum class StepOp { kObserve, kApply, kRemove };
const char* ToString(StepOp op);

struct ExecutorHooks {
  // Called before each retry: attempt number about to be made (2..), the error, the wait.
  std::function<void(int next_attempt, const StepAnswer& failed, Millis delay)> on_retry;
  std::function<void()> on_timeout;
};

class StepExecutor {
 public:
  // One call, bounded by `timeout`; `tenant_cancel` (may be null) aborts it early.
  static StepAnswer CallOnce(const StepKind& kind, StepOp op, StepCall call, Millis timeout,
                             const std::atomic<bool>* tenant_cancel, const ExecutorHooks& hooks);
  // Calls until success, a permanent error, or the policy's attempts are used up. `attempts`
  // receives the number of calls made.
  // `first`, when given, is the answer of the first attempt, already made in a batch.
  static StepAnswer CallWithRetry(const StepKind& kind, StepOp op, const StepCall& call, Millis timeout,
                                  const RetryPolicy& policy, const std::atomic<bool>* tenant_cancel,
                                  const ExecutorHooks& hooks, int* attempts,
                                  std::optional<StepAnswer> first = std::nullopt);
  // Several calls of one tenant in one hand-off, by StepKind::CallBatch's rules: over one round
  // trip when their kinds batch (StepKind::batches, the same plugin), or in process one after
  // another on this thread's helper. Each call keeps its timeout (from its own start) and
  // `tenant_cancel`; a call of a batch in process that ignores its cancel is abandoned as in
  // CallOnce, and the calls after it are not made. Empty when the calls cannot be batched (see
  // Batches; in process also while an abandoned call is alive): then call one by one. No retries
  // here: an error answer is the first attempt of a CallWithRetry.
  static BatchAnswers CallBatch(std::vector<BatchCall> calls, const std::atomic<bool>* tenant_cancel);
  // True when a call of `next` may join a batch that starts with a call of `first`.
  static bool Batches(const StepKind& first, const StepKind& next);

  // In-process calls abandoned after their timeout that have not returned yet.
  static int AbandonedCalls();
  // True once AbandonedCalls() reached the cap: the runner must stop claiming and leave.
  static bool MustStop();
  // The cap (default 8); tests lower it.
  static void SetAbandonedCap(int cap);
  // In process: how long a call may take to return after its timeout before it is abandoned,
  // and how long a call waits for an abandoned earlier call of the same step (both 2 s).
  static void SetGraces(Millis cancel_grace, Millis abandoned_wait);
};

}  // namespace matih::runner
