#include "engine/step_executor.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace matih::runner {
namespace {

constexpr Millis kGrace{2000};
constexpr Millis kPollSlice{50};

// Everything the call thread touches; shared so an abandoned call never reads freed memory.
struct CallState {
  StepCall call;
  std::atomic<bool> cancel{false};
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  StepAnswer answer;
};

}  // namespace

const char* ToString(StepOp op) {
  switch (op) {
    case StepOp::kObserve: return "observe";
    case StepOp::kApply: return "apply";
    case StepOp::kRemove: return "remove";
  }
  return "?";
}

StepAnswer StepExecutor::CallOnce(const StepKind& kind, StepOp op, StepCall call, Millis timeout,
                                  const std::atomic<bool>* tenant_cancel, const ExecutorHooks& hooks) {
  auto state = std::make_shared<CallState>();
  state->call = std::move(call);
  state->call.cancel = &state->cancel;
  auto now = std::chrono::system_clock::now();
  if (state->call.deadline.time_since_epoch().count() == 0 || state->call.deadline > now + timeout)
    state->call.deadline = now + timeout;
  const auto deadline = std::chrono::steady_clock::now() + (state->call.deadline - now);

  std::thread worker([state, &kind, op] {
    StepAnswer answer;
    switch (op) {
      case StepOp::kObserve: answer = kind.Observe(state->call); break;
      case StepOp::kApply: answer = kind.Apply(state->call); break;
      case StepOp::kRemove: answer = kind.Remove(state->call); break;
    }
    std::lock_guard<std::mutex> lock(state->mu);
    state->answer = std::move(answer);
    state->done = true;
    state->cv.notify_all();
  });

  std::unique_lock<std::mutex> lock(state->mu);
  bool timed_out = false;
  while (!state->done) {
    if (tenant_cancel && tenant_cancel->load()) state->cancel = true;
    if (std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
      state->cancel = true;
      state->cv.wait_for(lock, kGrace, [&] { return state->done; });
      break;
    }
    state->cv.wait_for(lock, kPollSlice, [&] { return state->done; });
  }
  if (!state->done) {
    lock.unlock();
    worker.detach();  // the plugin ignored its cancel flag; `state` lives until it returns
    if (hooks.on_timeout) hooks.on_timeout();
    StepAnswer late;
    late.status = MATIH_STATUS_DEADLINE_EXCEEDED;
    late.message = std::string(ToString(op)) + " did not return within its timeout of " +
                   FormatDuration(timeout) + " and was abandoned";
    return late;
  }
  lock.unlock();
  worker.join();
  if (timed_out) {
    if (hooks.on_timeout) hooks.on_timeout();
    if (state->answer.is_error() || state->answer.status == MATIH_STATUS_OK) {
      StepAnswer late = state->answer;
      if (late.status == MATIH_STATUS_CANCELLED || late.status == MATIH_STATUS_OK) {
        late.status = MATIH_STATUS_DEADLINE_EXCEEDED;
        late.message = std::string(ToString(op)) + " ran past its timeout of " + FormatDuration(timeout);
      }
      return late;
    }
  }
  return state->answer;
}

StepAnswer StepExecutor::CallWithRetry(const StepKind& kind, StepOp op, const StepCall& call, Millis timeout,
                                       const RetryPolicy& policy, const std::atomic<bool>* tenant_cancel,
                                       const ExecutorHooks& hooks, int* attempts) {
  StepAnswer answer;
  int attempt = 0;
  for (;;) {
    ++attempt;
    answer = CallOnce(kind, op, call, timeout, tenant_cancel, hooks);
    if (!answer.is_error() || !IsRetryable(CodeFromAbi(answer.status)) || attempt >= policy.attempts) break;
    if (tenant_cancel && tenant_cancel->load()) break;
    Millis delay = policy.Delay(attempt + 1);
    if (hooks.on_retry) hooks.on_retry(attempt + 1, answer, delay);
    auto until = std::chrono::steady_clock::now() + delay;
    while (std::chrono::steady_clock::now() < until) {
      if (tenant_cancel && tenant_cancel->load()) break;
      std::this_thread::sleep_for(std::min<Millis>(
          kPollSlice,
          std::chrono::duration_cast<Millis>(until - std::chrono::steady_clock::now() + Millis(1))));
    }
  }
  if (attempts) *attempts = attempt;
  return answer;
}

}  // namespace matih::runner
