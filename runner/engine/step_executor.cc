#include "engine/step_executor.h"

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace matih::runner {
namespace {

constexpr Millis kGrace{2000};
constexpr Millis kPollSlice{50};

// Everything the call thread touches; shared so an abandoned call never reads freed memory.
// `call` owns its outputs and settings (call.outputs_owner, call.settings_owner): the caller's
// shared snapshots, or copies of borrowed ones.
struct CallState {
  StepCall call;
  std::string key;  // tenant and step, for the registry of abandoned calls (set on abandon)
  std::atomic<bool> cancel{false};
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool abandoned = false;
  StepAnswer answer;
};

std::string CallKey(const StepCall& call) { return call.tenant.id + "\n" + call.step_name; }

// Abandoned in-process calls still running, by tenant and step.
class Abandoned {
 public:
  static Abandoned& Get() {
    static Abandoned* instance = new Abandoned();  // never destroyed: abandoned threads use it
    return *instance;
  }
  void Add(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    ++alive_[key];
    if (++total_ >= cap_) must_stop_ = true;
  }
  void Remove(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    if (--alive_[key] <= 0) alive_.erase(key);
    --total_;
    cv_.notify_all();
  }
  // Waits up to `wait` until no abandoned call of the call's tenant and step is alive; false
  // when one still is. With none alive at all (the usual case) it takes no lock and builds no key.
  bool WaitClear(const StepCall& call, Millis wait) {
    // A call is counted (Add) before its caller returns, so a later call of its step sees it.
    if (total_.load() == 0) return true;
    const std::string key = CallKey(call);
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, wait, [&] { return alive_.count(key) == 0; });
  }
  int total() { return total_.load(); }
  bool must_stop() {
    std::lock_guard<std::mutex> lock(mu_);
    return must_stop_;
  }
  void set_cap(int cap) {
    std::lock_guard<std::mutex> lock(mu_);
    cap_ = cap;
  }
  Millis wait() {
    std::lock_guard<std::mutex> lock(mu_);
    return wait_;
  }
  Millis grace() {
    std::lock_guard<std::mutex> lock(mu_);
    return grace_;
  }
  void set_grace(Millis grace) {
    std::lock_guard<std::mutex> lock(mu_);
    grace_ = grace;
  }
  void set_wait(Millis wait) {
    std::lock_guard<std::mutex> lock(mu_);
    wait_ = wait;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int> alive_;
  std::atomic<int> total_{0};  // written under mu_; read without it
  int cap_ = 8;
  bool must_stop_ = false;
  Millis wait_ = kGrace;
  Millis grace_ = kGrace;
};

// The thread that runs the in-process calls of one calling thread, kept for the next call:
// starting a thread per call cost more than a no-op step. A helper whose call is abandoned is
// dropped by its caller (the next call gets a new one) and ends when that call returns.
// Used only by the calling thread that owns it (thread_local).
class CallHelper {
 public:
  CallHelper() : shared_(std::make_shared<Shared>()) {
    std::thread([s = shared_] {
      std::unique_lock<std::mutex> lock(s->mu);
      for (;;) {
        s->cv.wait(lock, [&] { return s->stop || s->job; });
        if (!s->job) return;
        std::function<void()> job = std::move(s->job);
        s->job = nullptr;
        lock.unlock();
        job();
        job = nullptr;
        lock.lock();
        if (s->stop && !s->job) return;
      }
    }).detach();
  }
  ~CallHelper() {
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->stop = true;
    }
    shared_->cv.notify_all();
  }
  CallHelper(const CallHelper&) = delete;
  CallHelper& operator=(const CallHelper&) = delete;

  // Starts `job` on the helper and returns at once; the previous job has signalled its end.
  void Run(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->job = std::move(job);
    }
    shared_->cv.notify_all();
  }

  // This thread's helper, made on first use.
  static CallHelper& Mine() {
    if (!mine_) mine_ = std::make_unique<CallHelper>();
    return *mine_;
  }
  // Drops this thread's helper (its call was abandoned): it ends once that call returns.
  static void Abandon() { mine_.reset(); }

 private:
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::function<void()> job;
    bool stop = false;
  };
  std::shared_ptr<Shared> shared_;
  static thread_local std::unique_ptr<CallHelper> mine_;
};
thread_local std::unique_ptr<CallHelper> CallHelper::mine_;

StepAnswer Late(StepOp op, Millis timeout, StepAnswer answer) {
  if (answer.is_error() || answer.status == MATIH_STATUS_OK) {
    if (answer.status == MATIH_STATUS_CANCELLED || answer.status == MATIH_STATUS_OK) {
      answer.status = MATIH_STATUS_DEADLINE_EXCEEDED;
      answer.message = std::string(ToString(op)) + " ran past its timeout of " + FormatDuration(timeout);
    }
  }
  return answer;
}

StepAnswer Invoke(const StepKind& kind, StepOp op, const StepCall& call) {
  switch (op) {
    case StepOp::kObserve: return kind.Observe(call);
    case StepOp::kApply: return kind.Apply(call);
    case StepOp::kRemove: return kind.Remove(call);
  }
  return StepAnswer{};
}

StepOp OpOf(const char* method) {
  const std::string_view m(method);
  return m == "apply" ? StepOp::kApply : m == "remove" ? StepOp::kRemove : StepOp::kObserve;
}

// An immutable snapshot the caller shares is held, not copied; a borrowed pointer is copied: the
// call may be abandoned and outlive what its caller lent it.
void OwnInputs(StepCall& c) {
  if (!c.outputs) {
    c.outputs_owner.reset();
  } else if (c.outputs != c.outputs_owner.get()) {
    c.outputs_owner = std::make_shared<const TenantOutputs>(*c.outputs);
    c.outputs = c.outputs_owner.get();
  }
  if (!c.settings) {
    c.settings_owner.reset();
  } else if (c.settings != c.settings_owner.get()) {
    c.settings_owner = std::make_shared<const std::map<std::string, std::string>>(*c.settings);
    c.settings = c.settings_owner.get();
  }
}

StepAnswer AbandonedAnswer(StepOp op, Millis timeout) {
  StepAnswer late;
  late.status = MATIH_STATUS_DEADLINE_EXCEEDED;
  late.message = std::string(ToString(op)) + " did not return within its timeout of " +
                 FormatDuration(timeout) + " and was abandoned (in_process: its thread still runs)";
  return late;
}

using SteadyClock = std::chrono::steady_clock;

// Starts `call` now: its deadline becomes the earlier of its own and `timeout` from now (0: no
// timeout). Returns that end on the steady clock (max() when there is none).
SteadyClock::time_point StartCall(StepCall& call, Millis timeout) {
  const auto steady_now = SteadyClock::now();
  const auto now = std::chrono::system_clock::now();
  if (timeout.count() > 0 && (call.deadline.time_since_epoch().count() == 0 || call.deadline > now + timeout))
    call.deadline = now + timeout;
  if (call.deadline.time_since_epoch().count() == 0) return SteadyClock::time_point::max();
  return steady_now + std::chrono::duration_cast<SteadyClock::duration>(call.deadline - now);
}

// The in-process calls of one batch, run one after another on the caller's helper thread, and
// what the helper reports back (under mu). Shared, so an abandoned batch never reads freed memory.
struct BatchState {
  std::vector<BatchCall> calls;  // each owns its inputs (OwnInputs)
  std::atomic<bool> cancel{false};
  std::mutex mu;
  std::condition_variable cv;
  size_t current = 0;                                            // the call running now
  SteadyClock::time_point end = SteadyClock::time_point::max();  // when it has to end
  bool done = false;
  bool abandoned = false;
  std::string key;  // the running call's tenant and step (set on abandon)
  BatchAnswers answers;
};

// On the helper: the calls one after another, by the batch rules (model/step_kind.h).
void RunBatch(BatchState& s) {
  const StepAnswer* previous = nullptr;
  for (size_t i = 0; i < s.calls.size(); ++i) {
    BatchCall& c = s.calls[i];
    if (!BatchCallRuns(c.if_needed, previous)) {
      previous = nullptr;
      continue;
    }
    if (s.cancel.load()) break;
    const SteadyClock::time_point end = StartCall(c.call, c.timeout);
    {
      std::lock_guard<std::mutex> lock(s.mu);
      s.current = i;
      s.end = end;
    }
    const StepOp op = OpOf(c.method);
    StepAnswer answer = Invoke(*c.kind, op, c.call);
    if (SteadyClock::now() >= end) answer = Late(op, c.timeout, std::move(answer));
    const bool last = s.cancel.load() ||
                      BatchEndsAfter(c.method, answer, i + 1 < s.calls.size() && s.calls[i + 1].if_needed);
    {
      std::lock_guard<std::mutex> lock(s.mu);
      s.answers[i] = std::move(answer);
      previous = &*s.answers[i];
    }
    if (last) break;
  }
  std::lock_guard<std::mutex> lock(s.mu);
  s.done = true;
  if (s.abandoned) Abandoned::Get().Remove(s.key);
  s.cv.notify_all();
}

}  // namespace

int StepExecutor::AbandonedCalls() { return Abandoned::Get().total(); }
bool StepExecutor::MustStop() { return Abandoned::Get().must_stop(); }
void StepExecutor::SetAbandonedCap(int cap) { Abandoned::Get().set_cap(cap); }
void StepExecutor::SetGraces(Millis cancel_grace, Millis abandoned_wait) {
  Abandoned::Get().set_grace(cancel_grace);
  Abandoned::Get().set_wait(abandoned_wait);
}

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
  auto now = std::chrono::system_clock::now();
  if (call.deadline.time_since_epoch().count() == 0 || call.deadline > now + timeout)
    call.deadline = now + timeout;

  if (kind.stops_on_deadline()) {
    // The kind ends the call itself at its deadline or cancel (its worker is stopped).
    call.cancel = tenant_cancel;
    StepAnswer answer = Invoke(kind, op, call);
    if (std::chrono::system_clock::now() >= call.deadline) {
      if (hooks.on_timeout) hooks.on_timeout();
      return Late(op, timeout, std::move(answer));
    }
    return answer;
  }

  auto state = std::make_shared<CallState>();
  state->call = std::move(call);
  if (!Abandoned::Get().WaitClear(state->call, Abandoned::Get().wait())) {
    StepAnswer busy;
    busy.status = MATIH_STATUS_DEADLINE_EXCEEDED;
    busy.message = "an earlier call of step " + state->call.step_name + " for tenant " +
                   state->call.tenant.id + " is still running after its timeout; not starting " +
                   ToString(op) + " beside it";
    return busy;
  }
  OwnInputs(state->call);
  state->call.cancel = &state->cancel;
  const auto deadline = std::chrono::steady_clock::now() + (state->call.deadline - now);

  CallHelper::Mine().Run([state, &kind, op] {
    StepAnswer answer = Invoke(kind, op, state->call);
    std::lock_guard<std::mutex> lock(state->mu);
    state->answer = std::move(answer);
    state->done = true;
    if (state->abandoned) Abandoned::Get().Remove(state->key);
    state->cv.notify_all();
  });

  std::unique_lock<std::mutex> lock(state->mu);
  bool timed_out = false;
  while (!state->done) {
    if (tenant_cancel && tenant_cancel->load()) state->cancel = true;
    if (std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
      state->cancel = true;
      state->cv.wait_for(lock, Abandoned::Get().grace(), [&] { return state->done; });
      break;
    }
    state->cv.wait_for(lock, kPollSlice, [&] { return state->done; });
  }
  if (!state->done) {
    state->abandoned = true;
    state->key = CallKey(state->call);
    Abandoned::Get().Add(state->key);
    lock.unlock();
    CallHelper::Abandon();  // the plugin ignored its cancel flag; `state` lives until it returns
    if (hooks.on_timeout) hooks.on_timeout();
    return AbandonedAnswer(op, timeout);
  }
  lock.unlock();
  if (timed_out) {
    if (hooks.on_timeout) hooks.on_timeout();
    return Late(op, timeout, state->answer);
  }
  return state->answer;
}

bool StepExecutor::Batches(const StepKind& first, const StepKind& next) {
  if (first.batches()) return next.batches() && next.plugin_name() == first.plugin_name();
  return !first.stops_on_deadline() && !next.batches() && !next.stops_on_deadline();
}

BatchAnswers StepExecutor::CallBatch(std::vector<BatchCall> calls, const std::atomic<bool>* tenant_cancel) {
  if (calls.empty() || calls.front().kind == nullptr) return {};
  for (const BatchCall& c : calls)
    if (c.kind == nullptr || !Batches(*calls.front().kind, *c.kind)) return {};
  if (calls.front().kind->batches()) {
    for (BatchCall& c : calls) c.call.cancel = tenant_cancel;
    return calls.front().kind->CallBatch(calls);
  }
  // In process, one hand-off to this thread's helper for the whole batch. While any abandoned
  // call is alive, calls go one by one (CallOnce waits for an abandoned call of their step).
  if (Abandoned::Get().total() > 0) return {};
  auto state = std::make_shared<BatchState>();
  state->calls = std::move(calls);
  state->answers.resize(state->calls.size());
  for (BatchCall& c : state->calls) {
    OwnInputs(c.call);
    c.call.cancel = &state->cancel;
  }
  CallHelper::Mine().Run([state] { RunBatch(*state); });

  // Waits for the batch; a call past its end is cancelled, and abandoned after the grace period.
  std::unique_lock<std::mutex> lock(state->mu);
  bool stopping = false;
  SteadyClock::time_point give_up = SteadyClock::time_point::max();
  while (!state->done) {
    const auto now = SteadyClock::now();
    if (tenant_cancel && tenant_cancel->load()) state->cancel = true;
    if (!stopping && now >= state->end) {
      stopping = true;
      state->cancel = true;
      give_up = now + Abandoned::Get().grace();
    }
    if (now >= give_up) break;
    const auto wake = std::min(now + kPollSlice, stopping ? give_up : state->end);
    state->cv.wait_until(lock, wake, [&] { return state->done; });
  }
  if (state->done) return std::move(state->answers);
  const BatchCall& running = state->calls[state->current];
  state->abandoned = true;
  state->key = CallKey(running.call);
  Abandoned::Get().Add(state->key);
  BatchAnswers answers = state->answers;
  answers[state->current] = AbandonedAnswer(OpOf(running.method), running.timeout);
  lock.unlock();
  CallHelper::Abandon();  // the plugin ignored its cancel flag; `state` lives until it returns
  return answers;
}

StepAnswer StepExecutor::CallWithRetry(const StepKind& kind, StepOp op, const StepCall& call, Millis timeout,
                                       const RetryPolicy& policy, const std::atomic<bool>* tenant_cancel,
                                       const ExecutorHooks& hooks, int* attempts,
                                       std::optional<StepAnswer> first) {
  StepAnswer answer;
  int attempt = 0;
  for (;;) {
    ++attempt;
    if (attempt == 1 && first) {
      answer = std::move(*first);
      if (answer.status == MATIH_STATUS_DEADLINE_EXCEEDED && hooks.on_timeout) hooks.on_timeout();
    } else {
      answer = CallOnce(kind, op, call, timeout, tenant_cancel, hooks);
    }
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
