// StepExecutor: one step-kind call with a timeout, and the retry loop around it.
//
// Each call runs on its own thread so a plugin that ignores its deadline cannot hold the worker:
// at the timeout the executor raises the call's cancel flag, waits a short grace period, and
// then abandons the call (it keeps the call's inputs alive until the plugin returns) and reports
// DEADLINE_EXCEEDED. Transient errors are retried per the step's RetryPolicy with backoff and
// jitter; the wait is cut short when the tenant is cancelled.
// Safe from any thread; holds no state between calls.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "engine/retry_policy.h"
#include "engine/step_kind.h"

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
  static StepAnswer CallWithRetry(const StepKind& kind, StepOp op, const StepCall& call, Millis timeout,
                                  const RetryPolicy& policy, const std::atomic<bool>* tenant_cancel,
                                  const ExecutorHooks& hooks, int* attempts);
};

}  // namespace matih::runner
