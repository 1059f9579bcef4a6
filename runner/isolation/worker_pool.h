// WorkerPool: the plugin worker processes of one runner, and one step call made in one of them.
//
// A worker is this same executable run as `__plugin-worker` (worker_main.h), started with
// posix_spawn (never a bare fork in this threaded process) in a process group of its own, with a
// socketpair and a progress page (protocol.h) as its only links. It loads every plugin once,
// then serves batches of calls one at a time. The pool lends an idle worker to each batch
// (waiting a moment for a busy one to come back, then starting one, so there are at most as
// many workers as threads calling at once) and takes it back when the batch ends well. A batch
// goes back to the worker that served its tenant last when that one is idle: consecutive steps
// of a tenant then send only the outputs that changed, not the tenant's whole context.
//
// A call waits with poll() in slices and never past its end:
//  - past the call's deadline, or when its cancel flag rises, the worker gets SIGUSR1 (the
//    plugin sees is_cancelled) and `cancel_grace` to answer; then SIGTERM to its process group
//    and, `kill_grace` later, SIGKILL. The call answers DEADLINE_EXCEEDED or CANCELLED.
//  - a worker that dies during the call (a signal, exit(), its RLIMIT_AS hit) fails that call
//    with INTERNAL naming plugin, file, kind, step, tenant and how it ended (strsignal).
// Either way the worker is reaped and dropped; the next call starts a fresh one. Nothing a
// plugin does can end or hang the runner.
//
// Secret requests from a worker are served here against the call's own tenant (never one the
// worker names) and only within the plugin's namespace or what another plugin shares with it.
//
// Thread safety: Call and Validate may be called from any number of threads at once.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "isolation/frame_io.h"
#include "isolation/protocol.h"
#include "model/step_kind.h"
#include "plugin_host/host_services.h"
#include "plugin_host/plugin_host.h"

namespace matih::runner::isolation {

class WorkerPool {
 public:
  // Starts a first worker, which loads the plugins of `options`; its refusal (a broken file, a
  // bad pin) is the error returned here.
  static Result<std::shared_ptr<WorkerPool>> Start(const PluginHostOptions& options);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  const std::vector<LoadedPluginInfo>& plugins() const { return plugins_; }
  const std::vector<KindDescription>& kinds() const { return kinds_; }

  // `method`: observe, apply or remove. `shared` (may be null) says which secrets plugins share.
  StepAnswer Call(const KindDescription& kind, const char* method, const StepCall& call,
                  const SharedSecrets* shared);
  // One call of a batch: the kind it goes to, and the call as StepKind::CallBatch got it.
  struct Item {
    const KindDescription* kind;
    const BatchCall* call;
  };
  // Runs `items` (one tenant, one plugin) in one worker over one round trip, each call held to
  // its own timeout (counted from its start, read from the worker's progress page) and deadline;
  // the cancel flag is that of the first call. A call that overstays or dies ends the worker and
  // answers for itself, naming the step; calls it cut off answer nullopt.
  BatchAnswers CallBatch(const std::vector<Item>& items, const SharedSecrets* shared);
  Status Validate(const KindDescription& kind, const std::string& params_json);

  // Workers started since Start (the first included): tests see replacements with it.
  int workers_started() const { return started_.load(); }
  // Workers idle right now.
  size_t idle_workers() const;

 private:
  struct Worker {
    Worker() = default;
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;
    ~Worker();
    pid_t pid = -1;
    int fd = -1;
    FrameReader reader{-1};
    WorkerProgress* progress = nullptr;  // shared with the worker (protocol.h)
    // What the worker holds of the tenant context (protocol.h), so a batch sends only changes.
    bool settings_sent = false;
    std::map<std::string, std::string> settings;
    bool tenant_sent = false;
    TenantView tenant;
    TenantOutputs outputs;
  };

  explicit WorkerPool(PluginHostOptions options);
  // Starts a worker and waits for its load; `description` receives its "loaded" frame.
  Result<std::unique_ptr<Worker>> Spawn(nlohmann::json* description);
  // An idle worker, the one that last served `tenant_id` when there is one (it holds that
  // tenant's context, so the batch sends only what changed), else the most recently released.
  std::unique_ptr<Worker> Acquire(Status& error, const std::string& tenant_id = {});
  Status ValidateInWorker(const KindDescription& kind, const std::string& params_json);
  void Release(std::unique_ptr<Worker> worker);
  // Ends a worker: with `terminate`, SIGTERM to its group then SIGKILL after kill_grace; without,
  // waits up to kill_grace for it to leave on its own first. Returns its wait status (-1: none).
  int Stop(Worker& worker, bool terminate);
  nlohmann::json ServeSecret(const nlohmann::json& request, const KindDescription& kind, const StepCall& call,
                             const SharedSecrets* shared);

  PluginHostOptions options_;
  std::string executable_;
  std::vector<LoadedPluginInfo> plugins_;
  std::vector<KindDescription> kinds_;
  mutable std::mutex mu_;
  std::condition_variable released_;  // a worker went back to idle_
  std::vector<std::unique_ptr<Worker>> idle_;
  std::map<std::string, Status> validated_;  // verdicts by kind and params (Validate)
  std::atomic<int> started_{0};
};

// "killed by signal 11 (Segmentation fault)", "exited with status 3".
std::string DescribeWaitStatus(int status);

}  // namespace matih::runner::isolation
