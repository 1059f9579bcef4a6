#include "isolation/worker_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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

size_t WorkerPool::idle_workers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return idle_.size();
}

Result<std::unique_ptr<WorkerPool::Worker>> WorkerPool::Spawn(json* description) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return Internal(std::string("cannot create a plugin worker socket: ") + std::strerror(errno));
  int child_end = sv[1];
  if (child_end == 3) {  // dup2(3, 3) would keep close-on-exec set
    child_end = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
    ::close(sv[1]);
  }
  const std::string limit = std::to_string(options_.workers.memory_limit);
  std::vector<std::string> args = {executable_, kWorkerCommand, "--fd", "3", "--memory-limit", limit};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child_end, 3);
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
  if (rc != 0) {
    ::close(sv[0]);
    return Internal("cannot start a plugin worker (" + executable_ + "): " + std::strerror(rc));
  }
  started_.fetch_add(1);
  auto worker = std::make_unique<Worker>();
  worker->pid = pid;
  worker->fd = sv[0];
  worker->reader = FrameReader(sv[0]);

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

std::unique_ptr<WorkerPool::Worker> WorkerPool::Acquire(Status& error) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      auto w = std::move(idle_.back());
      idle_.pop_back();
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
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(worker));
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
  const std::string where = "plugin " + kind.plugin_name + " (" + kind.plugin_file + "), kind " + kind.name +
                            ", step " + call.step_name + ", tenant " +
                            (call.tenant.slug.empty() ? call.tenant.id : call.tenant.slug);
  Status error;
  std::unique_ptr<Worker> worker = Acquire(error);
  if (!worker) return Failure(MATIH_STATUS_UNAVAILABLE, where + ": " + error.message());

  json request = CallToJson(call);
  request["op"] = "call";
  request["method"] = method;
  request["kind"] = kind.name;
  static const std::map<std::string, std::string> kNoSettings;
  const auto& settings = call.settings ? *call.settings : kNoSettings;
  if (!worker->settings_sent || worker->settings != settings) {
    request["settings"] = settings;
    worker->settings = settings;
    worker->settings_sent = true;
  }

  auto died = [&](const std::string& during) {
    int status = Stop(*worker, /*terminate=*/false);
    Logger::Warn({call.run_id, call.tenant.slug, call.step_name},
                 "plugin worker " + DescribeWaitStatus(status) + " " + during + "; a new worker replaces it");
    return Failure(MATIH_STATUS_INTERNAL, where + ": the plugin worker " + DescribeWaitStatus(status) + " " +
                                              during + " (a new worker replaces it)");
  };
  if (!WriteFrame(worker->fd, request).ok()) return died(std::string("before ") + method);

  const auto sys_now = std::chrono::system_clock::now();
  Clock::time_point deadline = Clock::time_point::max();
  if (call.deadline.time_since_epoch().count() != 0)
    deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(call.deadline - sys_now);
  bool stopping = false;  // SIGUSR1 sent: waiting for the plugin to return
  bool by_deadline = false;
  Clock::time_point give_up = Clock::time_point::max();

  for (;;) {
    const auto now = Clock::now();
    if (!stopping) {
      const bool cancelled = call.cancel && call.cancel->load();
      if (cancelled || now >= deadline) {
        by_deadline = !cancelled;
        stopping = true;
        ::kill(worker->pid, SIGUSR1);
        give_up = now + options_.workers.cancel_grace;
      }
    }
    if (stopping && now >= give_up) {
      Stop(*worker, /*terminate=*/true);
      const std::string what =
          by_deadline ? "did not return by its deadline" : "was cancelled and did not return";
      Logger::Warn({call.run_id, call.tenant.slug, call.step_name},
                   kind.name + " " + method + " " + what + ": its plugin worker was stopped");
      return Failure(by_deadline ? MATIH_STATUS_DEADLINE_EXCEEDED : MATIH_STATUS_CANCELLED,
                     where + ": " + method + " " + what + " within " +
                         FormatDuration(options_.workers.cancel_grace) + " of its " +
                         (by_deadline ? "deadline" : "cancel") +
                         ", so its plugin worker was stopped (SIGTERM, then SIGKILL)");
    }
    Clock::time_point wake = now + kSlice;
    if (!stopping && deadline < wake) wake = deadline;
    if (stopping && give_up < wake) wake = give_up;
    json frame;
    FrameReader::Result r = worker->reader.Read(ToMillis(wake - now), frame);
    if (r == FrameReader::Result::kTimeout) continue;
    if (r != FrameReader::Result::kFrame) return died(std::string("during ") + method);
    const std::string op = frame.value("op", "");
    if (op == "secret") {
      if (!WriteFrame(worker->fd, ServeSecret(frame, kind, call, shared)).ok())
        return died(std::string("during ") + method);
      continue;
    }
    if (op != "result") {
      Stop(*worker, /*terminate=*/true);
      return Failure(MATIH_STATUS_INTERNAL, where + ": the plugin worker sent '" + op + "' during " + method +
                                                " (it was stopped and is replaced)");
    }
    StepAnswer answer = AnswerFromJson(frame);
    if (frame.value("retire", false))
      Stop(*worker, /*terminate=*/false);  // near its memory limit: it leaves, a new one comes
    else
      Release(std::move(worker));
    if (stopping && by_deadline && (!answer.is_error() || answer.status == MATIH_STATUS_CANCELLED)) {
      answer = Failure(MATIH_STATUS_DEADLINE_EXCEEDED, where + ": " + method + " ran past its deadline");
    }
    return answer;
  }
}

Status WorkerPool::Validate(const KindDescription& kind, const std::string& params_json) {
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
