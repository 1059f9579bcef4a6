#include "isolation/worker_main.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#include "isolation/frame_io.h"
#include "isolation/protocol.h"
#include "model/step_kind.h"
#include "plugin_host/plugin_host.h"
#include "secrets/secret_store.h"
#include "telemetry/logger.h"

namespace matih::runner::isolation {
namespace {

using nlohmann::json;

std::atomic<bool> g_cancel{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the cancel flag is set from a signal handler");

extern "C" void OnCancelSignal(int) { g_cancel.store(true); }

[[noreturn]] void Leave(int code) {
  std::cerr.flush();
  std::_Exit(code);
}

// The secret store of the runner, reached through the socket. Names arrive already namespaced
// by the worker's HostCall; the runner checks them again against the plugin and the tenant.
class SecretProxy final : public SecretStore {
 public:
  SecretProxy(int fd, FrameReader& reader) : fd_(fd), reader_(reader) {}
  // The call of the batch now running: the runner answers against that call's tenant and kind.
  void set_index(int index) { index_ = index; }

  Status Put(const std::string&, const std::string& name, std::string_view value) override {
    json reply;
    if (Status s =
            Ask({{"op", "secret"}, {"action", "put"}, {"name", name}, {"value", std::string(value)}}, reply);
        !s.ok())
      return s;
    return ReplyStatus(reply);
  }
  Result<std::string> Get(const std::string&, const std::string& name) override {
    json reply;
    if (Status s = Ask({{"op", "secret"}, {"action", "get"}, {"name", name}}, reply); !s.ok()) return s;
    if (Status s = ReplyStatus(reply); !s.ok()) return s;
    return reply.value("value", std::string());
  }
  Status Delete(const std::string&, const std::string& name) override {
    json reply;
    if (Status s = Ask({{"op", "secret"}, {"action", "delete"}, {"name", name}}, reply); !s.ok()) return s;
    return ReplyStatus(reply);
  }
  Status DeleteAll(const std::string&) override {
    return Status(runner::Code::kPermissionDenied, "a plugin cannot delete every secret of a tenant");
  }

 private:
  static Status ReplyStatus(const json& reply) {
    int code = reply.value("code", static_cast<int>(runner::Code::kInternal));
    if (code == 0) return Status::Ok();
    return Status(static_cast<runner::Code>(code),
                  reply.value("message", "the runner refused the secret request"));
  }
  Status Ask(const json& request, json& reply) {
    std::lock_guard<std::mutex> lock(mu_);  // the ABI allows callbacks from the call's thread only
    json framed = request;
    framed["index"] = index_;
    if (Status s = WriteFrame(fd_, framed); !s.ok()) Leave(0);  // the runner is gone
    FrameReader::Result r = reader_.Read(-1, reply);
    if (r != FrameReader::Result::kFrame) Leave(0);
    if (reply.value("op", "") != "secret_reply") Leave(3);
    return Status::Ok();
  }

  int fd_;
  FrameReader& reader_;
  std::mutex mu_;
  int index_ = 0;
};

// The progress page the runner reads (protocol.h); a private one when fd 4 is not a page.
WorkerProgress* MapProgress(int fd) {
  void* page =
      fd < 0 ? MAP_FAILED : mmap(nullptr, sizeof(WorkerProgress), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (fd >= 0) ::close(fd);
  if (page == MAP_FAILED) return new WorkerProgress();
  return new (page) WorkerProgress();
}

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The tenant context of the worker's batches: kept between batches, updated by what changed.
struct Context {
  TenantView tenant;
  TenantOutputs outputs;
  std::map<std::string, std::string> settings;

  void Update(const json& request) {
    if (request.contains("tenant")) tenant = TenantFromJson(request["tenant"]);
    if (request.value("outputs_reset", false)) outputs.clear();
    if (request.contains("outputs_drop"))
      for (const auto& step : request["outputs_drop"]) outputs.erase(step.get<std::string>());
    if (request.contains("outputs"))
      for (const auto& [step, values] : request["outputs"].items()) outputs[step] = values.get<StepOutputs>();
    if (request.contains("settings"))
      settings = request["settings"].get<std::map<std::string, std::string>>();
  }
};

StepAnswer Invoke(const StepKind* kind, const std::string& method, const std::string& kind_name,
                  const StepCall& call) {
  StepAnswer answer;
  if (kind == nullptr) {
    answer.message = "the plugin worker has no kind " + kind_name;
  } else if (method == "observe") {
    answer = kind->Observe(call);
  } else if (method == "apply") {
    answer = kind->Apply(call);
  } else if (method == "remove") {
    answer = kind->Remove(call);
  } else {
    answer.message = "the plugin worker got an unknown method '" + method + "'";
  }
  return answer;
}

// Runs a batch's calls in order (protocol.h says when it stops) and returns the answers frame.
json RunBatch(const PluginHost& host, const json& request, Context& context, SecretProxy& secrets,
              WorkerProgress& progress) {
  json answers = json::array();
  try {
    context.Update(request);
    StepCall call;
    call.tenant = context.tenant;
    call.run_id = request.value("run_id", "");
    call.dry_run = request.value("dry_run", false);
    call.lease_epoch = request.value("lease_epoch", int64_t{0});
    call.outputs = &context.outputs;
    call.settings = &context.settings;
    call.cancel = &g_cancel;
    if (request.value("has_secrets", false)) call.secrets = &secrets;
    const json& calls = request.at("calls");
    const StepAnswer* previous = nullptr;
    StepAnswer last;
    // [method, kind, step_number, step_name, params_json, deadline_ms, timeout_ms, if_needed]
    auto if_needed = [&](size_t i) { return calls[i].at(7).get<bool>(); };
    for (size_t i = 0; i < calls.size(); ++i) {
      const json& c = calls[i];
      if (!c.is_array() || c.size() < 8) throw std::runtime_error("a call is not an array of 8");
      if (!BatchCallRuns(if_needed(i), previous)) {
        answers.push_back(nullptr);
        previous = nullptr;
        continue;
      }
      if (g_cancel.load()) break;
      const int64_t start = SteadyNanos();
      progress.started_ns.store(start);
      progress.index.store(static_cast<int32_t>(i));
      secrets.set_index(static_cast<int>(i));
      const std::string& method = c[0].get_ref<const std::string&>();
      const std::string& kind_name = c[1].get_ref<const std::string&>();
      call.step_number = c[2].get<int>();
      call.step_name = c[3].get<std::string>();
      call.params_json = c[4].get<std::string>();
      call.deadline = std::chrono::system_clock::time_point(std::chrono::milliseconds(c[5].get<int64_t>()));
      const int64_t timeout_ms = c[6].get<int64_t>();
      if (timeout_ms > 0) {
        auto by_timeout = std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms);
        if (call.deadline.time_since_epoch().count() == 0 || by_timeout < call.deadline)
          call.deadline = by_timeout;
      }
      last = Invoke(host.Find(kind_name), method, kind_name, call);
      answers.push_back(AnswerToJson(last));
      previous = &last;
      if (g_cancel.load() || BatchEndsAfter(method, last, i + 1 < calls.size() && if_needed(i + 1))) break;
    }
  } catch (const std::exception& e) {
    StepAnswer answer;
    answer.status = MATIH_STATUS_INTERNAL;
    answer.message = std::string("the plugin worker could not read the call: ") + e.what();
    answers.push_back(AnswerToJson(answer));
    progress.index.store(-1);
    // Its context may be half updated: it serves no further batch.
    return {{"op", "results"}, {"answers", std::move(answers)}, {"retire", true}};
  }
  progress.index.store(-1);
  return {{"op", "results"}, {"answers", std::move(answers)}};
}

json LoadReply(const PluginHost& host) {
  json plugins = json::array();
  json kinds = json::array();
  for (const LoadedPluginInfo& info : host.plugins()) {
    plugins.push_back(ToJson(info));
    for (const std::string& name : info.kinds) {
      const StepKind* kind = host.Find(name);
      if (kind == nullptr) continue;
      kinds.push_back(ToJson(KindDescription{kind->name(), kind->description(), kind->plugin_name(),
                                             kind->plugin_version(), kind->plugin_file(), kind->abi_version(),
                                             info.declares_settings ? info.name : "", kind->adoptable()}));
    }
  }
  return {{"op", "loaded"}, {"code", 0}, {"plugins", plugins}, {"kinds", kinds}};
}

void ApplyMemoryLimit(unsigned long long bytes) {
  if (bytes == 0) return;
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer reserves terabytes of address space up front: an RLIMIT_AS would kill
  // every worker of a sanitizer build at start.
  (void)bytes;
#else
  rlimit limit{bytes, bytes};
  if (setrlimit(RLIMIT_AS, &limit) != 0)
    Logger::Warn({}, std::string("plugin worker: cannot set its memory limit: ") + std::strerror(errno));
#endif
}

// Whether the address space (what RLIMIT_AS counts) is past three quarters of the limit. Never in
// a sanitizer build, whose reserved shadow memory is terabytes and where no limit is applied.
// Asked after every batch: /proc/self/statm stays open and is read with one pread (fopen and
// fscanf per batch were about 40 % of a no-op step's worker CPU).
bool NearMemoryLimit(unsigned long long limit) {
#if defined(__SANITIZE_ADDRESS__)
  (void)limit;
  return false;
#endif
  if (limit == 0) return false;
  static const int statm = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  static const unsigned long long page_size = static_cast<unsigned long long>(sysconf(_SC_PAGESIZE));
  if (statm < 0) return false;
  char buf[64];
  const ssize_t n = ::pread(statm, buf, sizeof buf - 1, 0);
  if (n <= 0) return false;
  unsigned long long pages = 0;
  ssize_t i = 0;
  for (; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i)
    pages = pages * 10 + static_cast<unsigned long long>(buf[i] - '0');
  return i > 0 && pages * page_size > limit / 4 * 3;
}

// Leaves when the runner that started this worker is gone (its socket may be held open by
// nothing else, but a plugin hung in a call would never read the end of file).
void WatchParent() {
  const pid_t parent = getppid();
  std::thread([parent] {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      if (getppid() != parent) Leave(0);
    }
  }).detach();
}

}  // namespace

int RunPluginWorker(int argc, char** argv) {
  int fd = -1;
  int progress_fd = -1;
  unsigned long long memory_limit = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--fd")
      fd = std::atoi(argv[i + 1]);
    else if (flag == "--progress-fd")
      progress_fd = std::atoi(argv[i + 1]);
    else if (flag == "--memory-limit")
      memory_limit = std::strtoull(argv[i + 1], nullptr, 10);
  }
  if (fd < 0) {
    std::cerr << "matih-provisioner: " << kWorkerCommand
              << " is started by the runner itself (plugins.isolation = process), not by hand\n";
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = &OnCancelSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, nullptr);
  WatchParent();
  WorkerProgress* progress = MapProgress(progress_fd);
  ApplyMemoryLimit(memory_limit);

  FrameReader reader(fd);
  json load;
  if (reader.Read(-1, load) != FrameReader::Result::kFrame || load.value("op", "") != "load") Leave(3);
  Logger::Configure(load.value("log_format", "text") == "json" ? LogFormat::kJson : LogFormat::kText,
                    spdlog::level::from_str(load.value("log_level", "info")));
  PluginHostOptions options;
  options.plugin_dirs = load.value("dirs", std::vector<std::string>{});
  options.builtin_dirs = load.value("builtin_dirs", std::vector<std::string>{});
  options.sha256_pins = load.value("pins", std::map<std::string, std::string>{});
  options.allow_insecure_permissions = load.value("allow_insecure", false);
  auto host = PluginHost::Load(options);
  if (!host.ok()) {
    (void)WriteFrame(fd, {{"op", "loaded"},
                          {"code", static_cast<int>(host.status().code())},
                          {"message", host.status().message()}});
    Leave(0);
  }
  if (!WriteFrame(fd, LoadReply(**host)).ok()) Leave(0);

  SecretProxy secrets(fd, reader);
  Context context;
  for (;;) {
    json request;
    FrameReader::Result r = reader.Read(-1, request);
    if (r == FrameReader::Result::kClosed) Leave(0);
    if (r != FrameReader::Result::kFrame) Leave(3);
    // A cancel signal for the previous call has been delivered by now (it was sent before this
    // frame): this call starts uncancelled.
    g_cancel.store(false);
    const std::string op = request.value("op", "");
    const StepKind* kind = (*host)->Find(request.value("kind", ""));
    json reply;
    if (op == "validate") {
      Status s = kind ? kind->ValidateParams(request.value("params", "{}"))
                      : Internal("the plugin worker has no kind " + request.value("kind", ""));
      reply = {{"op", "validated"}, {"code", static_cast<int>(s.code())}, {"message", s.message()}};
    } else if (op == "batch") {
      reply = RunBatch(**host, request, context, secrets, *progress);
    } else {
      Leave(3);
    }
    // A worker near its memory limit (a plugin that leaks, or one that hit the limit and
    // survived) serves no further call: it says so, and the runner replaces it.
    const bool retire = reply.value("retire", false) || NearMemoryLimit(memory_limit);
    if (retire) reply["retire"] = true;
    if (!WriteFrame(fd, reply).ok() || retire) Leave(0);
  }
}

}  // namespace matih::runner::isolation
