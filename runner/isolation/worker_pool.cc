#include "isolation/worker_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "isolation/worker_main.h"
#include "secrets/secret_store.h"
#include "telemetry/logger.h"

extern char** environ;

namespace matih::runner::isolation {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// How often a waiting call looks at its cancel flag.
constexpr Millis kSlice{50};
// How long a call waits for a busy worker to come back before it starts a new one.
constexpr Millis kReuseWait{2};

std::string SelfExecutable() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "/proc/self/exe";
  return std::string(buf, static_cast<size_t>(n));
}

int ToMillis(Clock::duration d) {
  auto ms = std::chrono::duration_cast<Millis>(d).count();
  if (ms < 0) return 0;
  return ms > 1'000'000 ? 1'000'000 : static_cast<int>(ms);
}

Clock::time_point FromNanos(int64_t ns) {
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

// Adds to `request` what of the tenant context the worker does not hold yet (protocol.h).
template <typename Worker>
void AddContext(Worker& worker, const StepCall& call, json& request) {
  static const std::map<std::string, std::string> kNoSettings;
  const auto& settings = call.settings ? *call.settings : kNoSettings;
  if (!worker.settings_sent || worker.settings != settings) {
    request["settings"] = settings;
    worker.settings = settings;
    worker.settings_sent = true;
  }
  const TenantView& t = call.tenant;
  const bool same_tenant = worker.tenant_sent && worker.tenant.id == t.id;
  if (!same_tenant || worker.tenant.slug != t.slug || worker.tenant.tier != t.tier ||
      worker.tenant.region != t.region || worker.tenant.spec_json != t.spec_json) {
    request["tenant"] = ToJson(t);
    worker.tenant = t;
    worker.tenant_sent = true;
  }
  static const TenantOutputs kNoOutputs;
  const TenantOutputs& outputs = call.outputs ? *call.outputs : kNoOutputs;
  if (!same_tenant) {
    request["outputs_reset"] = true;
    request["outputs"] = outputs;
    worker.outputs = outputs;
    return;
  }
  // Both maps are ordered by step: one merge walk finds what changed and brings the copy of
  // what the worker holds up to date in place (copying the whole map per call was O(steps)
  // allocations per call, so O(steps^2) per tenant).
  json changed = json::object();
  json dropped = json::array();
  auto held = worker.outputs.begin();
  for (auto now = outputs.begin(); now != outputs.end(); ++now) {
    while (held != worker.outputs.end() && held->first < now->first) {
      dropped.push_back(held->first);
      held = worker.outputs.erase(held);
    }
    if (held != worker.outputs.end() && held->first == now->first) {
      if (held->second != now->second) {
        changed[now->first] = now->second;
        held->second = now->second;
      }
      ++held;
    } else {
      changed[now->first] = now->second;
      worker.outputs.emplace_hint(held, now->first, now->second);
    }
  }
  while (held != worker.outputs.end()) {
    dropped.push_back(held->first);
    held = worker.outputs.erase(held);
  }
  if (!changed.empty()) request["outputs"] = std::move(changed);
  if (!dropped.empty()) request["outputs_drop"] = std::move(dropped);
}

StepAnswer Failure(matih_status status, std::string message) {
  StepAnswer a;
  a.status = status;
  a.message = std::move(message);
  return a;
}

}  // namespace

std::string DescribeWaitStatus(int status) {
  if (status < 0) return "ended (its status could not be read)";
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    return "was killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "ended with wait status " + std::to_string(status);
}

WorkerPool::WorkerPool(PluginHostOptions options)
    : options_(std::move(options)),
      executable_(options_.workers.executable.empty() ? SelfExecutable() : options_.workers.executable) {}

Result<std::shared_ptr<WorkerPool>> WorkerPool::Start(const PluginHostOptions& options) {
  std::shared_ptr<WorkerPool> pool(new WorkerPool(options));
  json loaded;
  auto first = pool->Spawn(&loaded);
  if (!first.ok()) return first.status();
  const json plugins = loaded.value("plugins", json::array());
  const json kinds = loaded.value("kinds", json::array());
  for (const json& p : plugins) pool->plugins_.push_back(PluginInfoFromJson(p));
  for (const json& k : kinds) pool->kinds_.push_back(KindFromJson(k));
  pool->Release(std::move(*first));
  return pool;
}

WorkerPool::~WorkerPool() {
  std::vector<std::unique_ptr<Worker>> idle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle.swap(idle_);
  }
  // Closing the socket is the signal to leave; every worker reads it at once.
  for (auto& w : idle) {
    ::close(w->fd);
    w->fd = -1;
  }
  for (auto& w : idle) Stop(*w, /*terminate=*/false);
}

WorkerPool::Worker::~Worker() {
  if (progress) ::munmap(progress, sizeof(WorkerProgress));
}

size_t WorkerPool::idle_workers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return idle_.size();
}

Result<std::unique_ptr<WorkerPool::Worker>> WorkerPool::Spawn(json* description) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return Internal(std::string("cannot create a plugin worker socket: ") + std::strerror(errno));
  // Both descriptors the worker gets sit above 10 here, so neither dup2 below meets the other
  // (and dup2 onto itself would keep close-on-exec set).
  int child_end = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
  ::close(sv[1]);
  int page_fd = ::memfd_create("matih-worker-progress", MFD_CLOEXEC);
  void* page = MAP_FAILED;
  if (page_fd >= 0 && ::ftruncate(page_fd, sizeof(WorkerProgress)) == 0)
    page = ::mmap(nullptr, sizeof(WorkerProgress), PROT_READ | PROT_WRITE, MAP_SHARED, page_fd, 0);
  if (page != MAP_FAILED) {
    int high = ::fcntl(page_fd, F_DUPFD_CLOEXEC, 10);
    ::close(page_fd);
    page_fd = high;
  }
  if (child_end < 0 || page == MAP_FAILED || page_fd < 0) {
    const std::string why = std::strerror(errno);
    if (page != MAP_FAILED) ::munmap(page, sizeof(WorkerProgress));
    for (int fd : {sv[0], child_end, page_fd})
      if (fd >= 0) ::close(fd);
    return Internal("cannot create a plugin worker's progress page: " + why);
  }
  auto* progress = new (page) WorkerProgress();
  const std::string limit = std::to_string(options_.workers.memory_limit);
  std::vector<std::string> args = {
      executable_,      kWorkerCommand, "--fd", "3", "--progress-fd", std::to_string(kProgressFd),
      "--memory-limit", limit};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child_end, 3);
  posix_spawn_file_actions_adddup2(&actions, page_fd, kProgressFd);
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGUSR1, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);  // its own group: a stop reaches whatever it started
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, executable_.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(child_end);
  ::close(page_fd);
  if (rc != 0) {
    ::close(sv[0]);
    ::munmap(page, sizeof(WorkerProgress));
    return Internal("cannot start a plugin worker (" + executable_ + "): " + std::strerror(rc));
  }
  started_.fetch_add(1);
  auto worker = std::make_unique<Worker>();
  worker->pid = pid;
  worker->fd = sv[0];
  worker->reader = FrameReader(sv[0]);
  worker->progress = progress;

  json load = {{"op", "load"},
               {"dirs", options_.plugin_dirs},
               {"builtin_dirs", options_.builtin_dirs},
               {"pins", options_.sha256_pins},
               {"allow_insecure", options_.allow_insecure_permissions},
               {"log_format", options_.workers.log_format},
               {"log_level", options_.workers.log_level}};
  json loaded;
  FrameReader::Result r = FrameReader::Result::kError;
  if (WriteFrame(worker->fd, load).ok())
    r = worker->reader.Read(ToMillis(options_.workers.start_timeout), loaded);
  if (r != FrameReader::Result::kFrame || loaded.value("op", "") != "loaded") {
    const bool hung = r == FrameReader::Result::kTimeout;
    int status = Stop(*worker, /*terminate=*/hung);
    return Internal(
        "the plugin worker (" + executable_ + ") " +
        (hung ? "did not finish loading the plugins within " + FormatDuration(options_.workers.start_timeout)
              : DescribeWaitStatus(status)) +
        " while loading the plugins of " +
        (options_.plugin_dirs.empty() ? std::string("no directory") : options_.plugin_dirs.front()));
  }
  int code = loaded.value("code", static_cast<int>(Code::kInternal));
  if (code != 0) {
    ::close(worker->fd);
    worker->fd = -1;
    Stop(*worker, /*terminate=*/false);
    return Status(static_cast<Code>(code), loaded.value("message", "the plugin worker refused to load"));
  }
  if (description) *description = std::move(loaded);
  return worker;
}

std::unique_ptr<WorkerPool::Worker> WorkerPool::Acquire(Status& error, const std::string& tenant_id) {
  {
    // A worker is busy for one round trip at a time; one that comes back within kReuseWait is
    // taken rather than starting (and loading the plugins into) another process.
    std::unique_lock<std::mutex> lock(mu_);
    if (idle_.empty()) released_.wait_for(lock, kReuseWait, [&] { return !idle_.empty(); });
    if (!idle_.empty()) {
      auto pick = idle_.end() - 1;
      if (!tenant_id.empty())
        for (auto it = idle_.begin(); it != idle_.end(); ++it)
          if ((*it)->tenant_sent && (*it)->tenant.id == tenant_id) {
            pick = it;
            break;
          }
      auto w = std::move(*pick);
      idle_.erase(pick);
      return w;
    }
  }
  auto spawned = Spawn(nullptr);
  if (!spawned.ok()) {
    error = spawned.status();
    return nullptr;
  }
  return std::move(*spawned);
}

void WorkerPool::Release(std::unique_ptr<Worker> worker) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(worker));
  }
  released_.notify_one();
}

int WorkerPool::Stop(Worker& worker, bool terminate) {
  if (worker.pid <= 0) return -1;
  int status = -1;
  const auto grace_end = Clock::now() + options_.workers.kill_grace;
  if (terminate) ::kill(-worker.pid, SIGTERM);
  for (;;) {
    pid_t r = ::waitpid(worker.pid, &status, WNOHANG);
    if (r == worker.pid) break;
    if (r < 0 && errno != EINTR) {
      status = -1;
      break;
    }
    if (Clock::now() >= grace_end) {
      ::kill(-worker.pid, SIGKILL);
      while (::waitpid(worker.pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Whatever the worker started and left behind in its group goes with it.
  ::kill(-worker.pid, SIGKILL);
  worker.pid = -1;
  if (worker.fd >= 0) ::close(worker.fd);
  worker.fd = -1;
  return status;
}

json WorkerPool::ServeSecret(const json& request, const KindDescription& kind, const StepCall& call,
                             const SharedSecrets* shared) {
  auto refuse = [](Code code, const std::string& message) {
    return json{{"op", "secret_reply"}, {"code", static_cast<int>(code)}, {"message", message}};
  };
  const std::string action = request.value("action", "");
  const std::string name = request.value("name", "");
  if (call.secrets == nullptr) return refuse(Code::kFailedPrecondition, "this runner has no secret store");
  if (call.dry_run && action != "get")
    return refuse(Code::kFailedPrecondition, "a dry run changes no secret");
  // The worker names the secret as its HostCall namespaced it; a plugin that forges frames
  // still reaches only its own namespace and what others share with it.
  const std::string& ns = kind.secret_namespace;
  if (!ns.empty() && name.rfind(ns + "/", 0) != 0) {
    auto slash = name.find('/');
    bool shared_ok = action == "get" && slash != std::string::npos && shared != nullptr &&
                     shared->Allows(name.substr(0, slash), std::string_view(name).substr(slash + 1));
    if (!shared_ok)
      return refuse(Code::kPermissionDenied,
                    "plugin " + kind.plugin_name + " may not reach secret '" + name + "'");
  }
  if (action == "get") {
    Result<std::string> value = call.secrets->Get(call.tenant.id, name);
    if (!value.ok()) return refuse(value.status().code(), value.status().message());
    return {{"op", "secret_reply"}, {"code", 0}, {"value", *value}};
  }
  // Fenced by the runner's lease, as in process (plugin_host/host_services.cc).
  const LeaseFence fence{call.lease_owner, call.lease_epoch};
  const bool fenced = !call.lease_owner.empty();
  Status s = action == "put"
                 ? (fenced ? call.secrets->PutFenced(fence, call.tenant.id, name, request.value("value", ""))
                           : call.secrets->Put(call.tenant.id, name, request.value("value", "")))
             : action == "delete" ? (fenced ? call.secrets->DeleteFenced(fence, call.tenant.id, name)
                                            : call.secrets->Delete(call.tenant.id, name))
                                  : Status(Code::kInvalidArgument, "unknown secret action '" + action + "'");
  return {{"op", "secret_reply"}, {"code", static_cast<int>(s.code())}, {"message", s.message()}};
}

StepAnswer WorkerPool::Call(const KindDescription& kind, const char* method, const StepCall& call,
                            const SharedSecrets* shared) {
  BatchCall one;
  one.method = method;
  one.call = call;
  BatchAnswers answers = CallBatch({{&kind, &one}}, shared);
  if (!answers.empty() && answers.front()) return std::move(*answers.front());
  return Failure(MATIH_STATUS_INTERNAL, "plugin " + kind.plugin_name + ", kind " + kind.name + ", step " +
                                            call.step_name + ": the plugin worker gave no answer");
}

BatchAnswers WorkerPool::CallBatch(const std::vector<Item>& items, const SharedSecrets* shared) {
  BatchAnswers answers(items.size());
  if (items.empty()) return answers;
  const StepCall& first = items.front().call->call;
  auto where = [&](size_t i) {
    const KindDescription& kind = *items[i].kind;
    const StepCall& call = items[i].call->call;
    return "plugin " + kind.plugin_name + " (" + kind.plugin_file + "), kind " + kind.name + ", step " +
           call.step_name + ", tenant " + (call.tenant.slug.empty() ? call.tenant.id : call.tenant.slug);
  };
  Status error;
  std::unique_ptr<Worker> worker = Acquire(error, first.tenant.id);
  if (!worker) {
    answers[0] = Failure(MATIH_STATUS_UNAVAILABLE, where(0) + ": " + error.message());
    return answers;
  }

  json request = {{"op", "batch"},
                  {"run_id", first.run_id},
                  {"lease_epoch", first.lease_epoch},
                  {"dry_run", first.dry_run},
                  {"has_secrets", first.secrets != nullptr}};
  AddContext(*worker, first, request);
  json calls = json::array();
  // Each call's own end: its deadline (absolute), and its timeout from the moment it starts.
  const auto sys_now = std::chrono::system_clock::now();
  const auto steady_now = Clock::now();
  std::vector<Clock::time_point> deadlines;
  for (const Item& item : items) {
    const StepCall& call = item.call->call;
    const int64_t deadline_ms = std::chrono::duration_cast<Millis>(call.deadline.time_since_epoch()).count();
    calls.push_back(
        json::array({item.call->method, item.kind->name, call.step_number, call.step_name, call.params_json,
                     deadline_ms, static_cast<int64_t>(item.call->timeout.count()), item.call->if_needed}));
    deadlines.push_back(
        deadline_ms == 0 ? Clock::time_point::max()
                         : steady_now + std::chrono::duration_cast<Clock::duration>(call.deadline - sys_now));
  }
  request["calls"] = std::move(calls);
  const std::atomic<bool>* cancel = first.cancel;
  worker->progress->index.store(-1);

  // The call the worker runs now, and when it has to end.
  const auto issued = Clock::now();
  auto current = [&](size_t& index) {
    int32_t i = worker->progress->index.load();
    Clock::time_point started = issued;
    if (i >= 0 && static_cast<size_t>(i) < items.size()) {
      started = std::max(issued, FromNanos(worker->progress->started_ns.load()));
    } else {
      i = 0;
    }
    index = static_cast<size_t>(i);
    Clock::time_point end = deadlines[index];
    const Millis timeout = items[index].call->timeout;
    if (timeout.count() > 0 && started + timeout < end) end = started + timeout;
    return end;
  };

  auto died = [&](size_t index, const std::string& during) {
    int status = Stop(*worker, /*terminate=*/false);
    const StepCall& call = items[index].call->call;
    Logger::Warn({call.run_id, call.tenant.slug, call.step_name},
                 "plugin worker " + DescribeWaitStatus(status) + " " + during + "; a new worker replaces it");
    answers[index] =
        Failure(MATIH_STATUS_INTERNAL, where(index) + ": the plugin worker " + DescribeWaitStatus(status) +
                                           " " + during + " (a new worker replaces it)");
    return answers;
  };
  auto method_of = [&](size_t index) { return std::string(items[index].call->method); };
  if (!WriteFrame(worker->fd, request).ok()) return died(0, "before " + method_of(0));

  bool stopping = false;  // SIGUSR1 sent: waiting for the plugin to return
  bool by_deadline = false;
  size_t stopped = 0;  // the call that was stopped
  Clock::time_point give_up = Clock::time_point::max();

  for (;;) {
    const auto now = Clock::now();
    size_t index = 0;
    const Clock::time_point end = current(index);
    if (!stopping) {
      const bool cancelled = cancel && cancel->load();
      if (cancelled || now >= end) {
        by_deadline = !cancelled;
        stopping = true;
        stopped = index;
        ::kill(worker->pid, SIGUSR1);
        give_up = now + options_.workers.cancel_grace;
      }
    }
    if (stopping && now >= give_up) {
      Stop(*worker, /*terminate=*/true);
      const StepCall& call = items[stopped].call->call;
      const std::string method = method_of(stopped);
      const std::string what =
          by_deadline ? "did not return by its deadline" : "was cancelled and did not return";
      Logger::Warn({call.run_id, call.tenant.slug, call.step_name},
                   items[stopped].kind->name + " " + method + " " + what + ": its plugin worker was stopped");
      answers[stopped] = Failure(by_deadline ? MATIH_STATUS_DEADLINE_EXCEEDED : MATIH_STATUS_CANCELLED,
                                 where(stopped) + ": " + method + " " + what + " within " +
                                     FormatDuration(options_.workers.cancel_grace) + " of its " +
                                     (by_deadline ? "deadline" : "cancel") +
                                     ", so its plugin worker was stopped (SIGTERM, then SIGKILL)");
      return answers;
    }
    Clock::time_point wake = now + kSlice;
    if (!stopping && end < wake) wake = end;
    if (stopping && give_up < wake) wake = give_up;
    json frame;
    FrameReader::Result r = worker->reader.Read(ToMillis(wake - now), frame);
    if (r == FrameReader::Result::kTimeout) continue;
    if (r != FrameReader::Result::kFrame) {
      current(index);
      return died(index, "during " + method_of(index));
    }
    const std::string op = frame.value("op", "");
    if (op == "secret") {
      // Served against the call the worker names, within this batch (one tenant, one plugin).
      int64_t at = frame.value("index", int64_t{0});
      size_t i = at >= 0 && static_cast<size_t>(at) < items.size() ? static_cast<size_t>(at) : 0;
      if (!WriteFrame(worker->fd, ServeSecret(frame, *items[i].kind, items[i].call->call, shared)).ok())
        return died(i, "during " + method_of(i));
      continue;
    }
    if (op != "results" || !frame.contains("answers") || !frame["answers"].is_array()) {
      current(index);
      Stop(*worker, /*terminate=*/true);
      answers[index] =
          Failure(MATIH_STATUS_INTERNAL, where(index) + ": the plugin worker sent '" + op + "' during " +
                                             method_of(index) + " (it was stopped and is replaced)");
      return answers;
    }
    const json& got = frame["answers"];
    for (size_t i = 0; i < got.size() && i < items.size(); ++i)
      if (got[i].is_array()) answers[i] = AnswerFromJson(got[i]);
    if (frame.value("retire", false))
      Stop(*worker, /*terminate=*/false);  // near its memory limit: it leaves, a new one comes
    else
      Release(std::move(worker));
    if (stopping && by_deadline && answers[stopped] &&
        (!answers[stopped]->is_error() || answers[stopped]->status == MATIH_STATUS_CANCELLED)) {
      answers[stopped] = Failure(MATIH_STATUS_DEADLINE_EXCEEDED,
                                 where(stopped) + ": " + method_of(stopped) + " ran past its deadline");
    }
    return answers;
  }
}

Status WorkerPool::Validate(const KindDescription& kind, const std::string& params_json) {
  // validate_params is a function of the kind and the params: a catalog whose steps share
  // params asks the worker once.
  const std::string key = kind.name + '\n' + params_json;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto known = validated_.find(key);
    if (known != validated_.end()) return known->second;
  }
  Status verdict = ValidateInWorker(kind, params_json);
  if (verdict.ok() || verdict.code() == Code::kInvalidArgument) {
    std::lock_guard<std::mutex> lock(mu_);
    validated_.emplace(key, verdict);
  }
  return verdict;
}

Status WorkerPool::ValidateInWorker(const KindDescription& kind, const std::string& params_json) {
  const std::string where = "plugin " + kind.plugin_name + " (" + kind.plugin_file + "), kind " + kind.name;
  Status error;
  std::unique_ptr<Worker> worker = Acquire(error);
  if (!worker) return Status(error.code(), where + ": " + error.message());
  json reply;
  FrameReader::Result r = FrameReader::Result::kError;
  if (WriteFrame(worker->fd, {{"op", "validate"}, {"kind", kind.name}, {"params", params_json}}).ok())
    r = worker->reader.Read(ToMillis(options_.workers.start_timeout), reply);
  if (r != FrameReader::Result::kFrame || reply.value("op", "") != "validated") {
    int status = Stop(*worker, /*terminate=*/true);
    return Internal(where + ": the plugin worker " + DescribeWaitStatus(status) + " during validate_params");
  }
  if (reply.value("retire", false))
    Stop(*worker, /*terminate=*/false);
  else
    Release(std::move(worker));
  int code = reply.value("code", static_cast<int>(Code::kInternal));
  if (code == 0) return Status::Ok();
  return Status(static_cast<Code>(code), reply.value("message", ""));
}

}  // namespace matih::runner::isolation
