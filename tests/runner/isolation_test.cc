// Plugins in worker processes (runner/isolation): the faulty test plugin segfaults, aborts,
// calls exit(), hangs, leaks and throws in a worker; each call fails alone with a message naming
// plugin, kind, step, tenant and how the worker ended, the worker is replaced, and the next call
// works. Hangs end at their deadline with the worker stopped. In process mode a broken plugin
// file is a refusal, never a signal. In in_process mode an abandoned call owns its inputs, and a
// batch of calls keeps the rules and timeouts of single calls.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "engine/step_executor.h"
#include "isolation/isolated_step_kind.h"
#include "isolation/plugin_loader.h"
#include "plugin_host/plugin_host.h"
#include "secrets/secret_store.h"

namespace matih::runner {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A SecretStore in memory: the runner side of the secret proxy writes here.
class MemorySecrets final : public SecretStore {
 public:
  Status Put(const std::string& tenant, const std::string& name, std::string_view value) override {
    std::lock_guard<std::mutex> lock(mu_);
    values_[tenant + "|" + name] = std::string(value);
    return Status::Ok();
  }
  Result<std::string> Get(const std::string& tenant, const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = values_.find(tenant + "|" + name);
    if (it == values_.end()) return Status(Code::kNotFound, "no secret " + name);
    return it->second;
  }
  Status Delete(const std::string& tenant, const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    values_.erase(tenant + "|" + name);
    return Status::Ok();
  }
  Status DeleteAll(const std::string&) override { return Status::Ok(); }
  std::map<std::string, std::string> values() {
    std::lock_guard<std::mutex> lock(mu_);
    return values_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> values_;
};

PluginHostOptions Options(bool isolated, const std::string& dir = MATIH_TEST_PLUGIN_DIR "/faulty") {
  PluginHostOptions o;
  o.plugin_dirs = {dir};
  o.allow_insecure_permissions = true;
  o.workers.enabled = isolated;
  o.workers.executable = MATIH_PROVISIONER_BIN;
  o.workers.memory_limit = 512ULL << 20;
  o.workers.log_level = "warn";
  o.workers.cancel_grace = Millis(200);
  o.workers.kill_grace = Millis(300);
  return o;
}

bool Alive(pid_t pid) { return ::kill(pid, 0) == 0; }

class IsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto host = isolation::LoadPlugins(Options(true));
    ASSERT_TRUE(host.ok()) << host.status().ToString();
    host_ = std::move(*host);
    settings_["faulty.setting"] = "set-by-runner";
    outputs_["earlier-step"]["value"] = "from-earlier";
  }

  const isolation::WorkerPool& Pool() {
    return dynamic_cast<const isolation::IsolatedStepKind&>(Kind("faulty.echo")).pool();
  }
  const StepKind& Kind(const std::string& name) {
    const StepKind* kind = host_->Find(name);
    EXPECT_NE(kind, nullptr) << name;
    return *kind;
  }
  StepCall Call(const std::string& slug = "acme", const std::string& params = "{}") {
    StepCall c;
    c.tenant = {"id-" + slug, slug, "free", "eastus", "{}"};
    c.step_number = 7;
    c.step_name = "step-seven";
    c.params_json = params;
    c.run_id = "run-1";
    c.outputs = &outputs_;
    c.settings = &settings_;
    c.secrets = &secrets_;
    return c;
  }
  // faulty.echo apply: works, and names the process that served it.
  std::string EchoPid(const std::string& slug = "acme") {
    StepAnswer a =
        StepExecutor::CallOnce(Kind("faulty.echo"), StepOp::kApply, Call(slug), Millis(5000), nullptr, {});
    EXPECT_EQ(a.status, MATIH_STATUS_OK) << a.message;
    return a.outputs["pid"];
  }
  void ExpectNamed(const StepAnswer& a, const std::string& kind, const std::string& how) {
    EXPECT_EQ(a.status, MATIH_STATUS_INTERNAL) << a.message;
    for (const std::string& part : {std::string("plugin faulty"), "kind " + kind,
                                    std::string("step step-seven"), std::string("tenant acme"), how})
      EXPECT_NE(a.message.find(part), std::string::npos) << "'" << part << "' missing from: " << a.message;
  }

  std::unique_ptr<PluginHost> host_;
  std::map<std::string, std::string> settings_;
  TenantOutputs outputs_;
  MemorySecrets secrets_;
};

TEST_F(IsolationTest, KindsComeFromTheWorkerNotThisProcess) {
  EXPECT_TRUE(Kind("faulty.echo").stops_on_deadline());
  EXPECT_EQ(Kind("faulty.echo").plugin_name(), "faulty");
  ASSERT_EQ(host_->plugins().size(), 1u);
  EXPECT_EQ(host_->plugins()[0].settings.at(0).name, "faulty.setting");
  std::string pid = EchoPid();
  EXPECT_NE(pid, std::to_string(getpid()));
  EXPECT_NE(pid, "");
  // The plugin library was never mapped into this process.
  std::ifstream maps("/proc/self/maps");
  std::string text((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find("faulty"), std::string::npos);
}

TEST_F(IsolationTest, HostServicesAreProxied) {
  StepAnswer a =
      StepExecutor::CallOnce(Kind("faulty.echo"), StepOp::kApply, Call(), Millis(5000), nullptr, {});
  ASSERT_EQ(a.status, MATIH_STATUS_OK) << a.message;
  EXPECT_EQ(a.outputs["setting"], "set-by-runner");
  EXPECT_EQ(a.outputs["earlier"], "from-earlier");
  EXPECT_EQ(a.outputs["put"], "0");
  EXPECT_EQ(a.outputs["secret_roundtrip"], "yes");
  auto stored = secrets_.values();
  ASSERT_EQ(stored.count("id-acme|faulty/token"), 1u) << "secret kept under the plugin's namespace";
  EXPECT_EQ(stored["id-acme|faulty/token"], "echo-secret-acme");
  // A second tenant's call stores under its own tenant, not the first one's.
  StepAnswer b =
      StepExecutor::CallOnce(Kind("faulty.echo"), StepOp::kApply, Call("beta"), Millis(5000), nullptr, {});
  ASSERT_EQ(b.status, MATIH_STATUS_OK) << b.message;
  EXPECT_EQ(secrets_.values()["id-beta|faulty/token"], "echo-secret-beta");
  EXPECT_EQ(secrets_.values()["id-acme|faulty/token"], "echo-secret-acme");
  // Observe's diff comes back, and validate_params runs in the worker.
  StepAnswer o =
      StepExecutor::CallOnce(Kind("faulty.echo"), StepOp::kObserve, Call(), Millis(5000), nullptr, {});
  EXPECT_EQ(o.status, MATIH_STATUS_DRIFTED);
  EXPECT_NE(o.message.find("served by"), std::string::npos) << o.message;
  EXPECT_TRUE(Kind("faulty.echo").ValidateParams("{}").ok());
  Status bad = Kind("faulty.echo").ValidateParams(R"({"bad": 1})");
  EXPECT_EQ(bad.code(), Code::kInvalidArgument);
  EXPECT_NE(bad.message().find("param 'bad' is refused"), std::string::npos) << bad.message();
}

TEST_F(IsolationTest, DryRunRefusesApplyAndSecretWrites) {
  StepCall c = Call();
  c.dry_run = true;
  StepAnswer a = StepExecutor::CallOnce(Kind("faulty.echo"), StepOp::kApply, c, Millis(5000), nullptr, {});
  EXPECT_EQ(a.status, MATIH_STATUS_FAILED_PRECONDITION) << a.message;
  EXPECT_TRUE(secrets_.values().empty());
}

TEST_F(IsolationTest, SegfaultFailsOnlyItsCallAndTheWorkerIsReplaced) {
  std::string before = EchoPid();
  const int started = Pool().workers_started();
  StepAnswer a =
      StepExecutor::CallOnce(Kind("faulty.segfault"), StepOp::kObserve, Call(), Millis(5000), nullptr, {});
#if defined(__SANITIZE_ADDRESS__)
  ExpectNamed(a, "faulty.segfault", "the plugin worker");  // ASan's handler turns the signal into exit(1)
#else
  ExpectNamed(a, "faulty.segfault", "signal 11 (Segmentation fault)");
#endif
  EXPECT_FALSE(Alive(std::stoi(before))) << "the dead worker was reaped";
  std::string after = EchoPid();
  EXPECT_NE(after, before);
  EXPECT_EQ(Pool().workers_started(), started + 1);
}

TEST_F(IsolationTest, AbortExitAndThrowFailOnlyTheirCall) {
  StepAnswer a =
      StepExecutor::CallOnce(Kind("faulty.abort"), StepOp::kApply, Call(), Millis(5000), nullptr, {});
#if defined(__SANITIZE_ADDRESS__)
  ExpectNamed(a, "faulty.abort", "the plugin worker");
#else
  ExpectNamed(a, "faulty.abort", "signal 6 (Aborted)");
#endif
  EXPECT_NE(EchoPid(), "");
  StepAnswer e =
      StepExecutor::CallOnce(Kind("faulty.exit"), StepOp::kApply, Call(), Millis(5000), nullptr, {});
  ExpectNamed(e, "faulty.exit", "exited with status 3");
  EXPECT_NE(EchoPid(), "");
  std::string pid = EchoPid();
  StepAnswer t =
      StepExecutor::CallOnce(Kind("faulty.throw"), StepOp::kObserve, Call(), Millis(5000), nullptr, {});
  EXPECT_EQ(t.status, MATIH_STATUS_INTERNAL);
  EXPECT_NE(t.message.find("let an exception escape"), std::string::npos) << t.message;
  EXPECT_EQ(EchoPid(), pid) << "a caught exception does not cost the worker";
}

TEST_F(IsolationTest, HangIgnoringCancelIsStoppedAtItsDeadline) {
  const fs::path pid_file = fs::path(::testing::TempDir()) / ("hang-" + std::to_string(getpid()));
  fs::remove(pid_file);
  const auto start = Clock::now();
  StepAnswer a = StepExecutor::CallOnce(Kind("faulty.hang"), StepOp::kApply,
                                        Call("acme", R"({"pid_file": ")" + pid_file.string() + R"("})"),
                                        Millis(300), nullptr, {});
  const auto took = Clock::now() - start;
  EXPECT_EQ(a.status, MATIH_STATUS_DEADLINE_EXCEEDED) << a.message;
  EXPECT_NE(a.message.find("its plugin worker was stopped"), std::string::npos) << a.message;
  EXPECT_NE(a.message.find("tenant acme"), std::string::npos) << a.message;
  // 300 ms timeout + 200 ms cancel grace + at most 300 ms kill grace, with room for a slow box.
  EXPECT_LT(took, std::chrono::milliseconds(2500));
  EXPECT_GE(took, std::chrono::milliseconds(450));
  std::ifstream in(pid_file);
  int pid = 0;
  in >> pid;
  ASSERT_GT(pid, 0) << "the hang kind ran in a worker";
  EXPECT_FALSE(Alive(pid)) << "the worker was killed, not abandoned";
  EXPECT_EQ(StepExecutor::AbandonedCalls(), 0);
  EXPECT_NE(EchoPid(), "");
}

TEST_F(IsolationTest, CancelStopsARunningCall) {
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    cancel = true;
  });
  const auto start = Clock::now();
  StepAnswer a =
      StepExecutor::CallOnce(Kind("faulty.hang"), StepOp::kApply, Call(), Millis(20000), &cancel, {});
  canceller.join();
  EXPECT_EQ(a.status, MATIH_STATUS_CANCELLED) << a.message;
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(3000));
  EXPECT_NE(EchoPid(), "");
}

TEST_F(IsolationTest, PoliteHangAnswersItsCancelAndKeepsItsWorker) {
  std::string pid = EchoPid();
  const int started = Pool().workers_started();
  StepAnswer a =
      StepExecutor::CallOnce(Kind("faulty.hang_polite"), StepOp::kApply, Call(), Millis(200), nullptr, {});
  EXPECT_EQ(a.status, MATIH_STATUS_DEADLINE_EXCEEDED) << a.message;
  EXPECT_EQ(Pool().workers_started(), started) << "a plugin that honours its cancel keeps its worker";
  EXPECT_EQ(EchoPid(), pid);
}

TEST_F(IsolationTest, UnboundedAllocationHitsTheLimitAndFailsOnlyItsCall) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "RLIMIT_AS cannot apply under AddressSanitizer (it reserves terabytes up front)";
#else
  std::string before = EchoPid();
  const auto start = Clock::now();
  StepAnswer a =
      StepExecutor::CallOnce(Kind("faulty.hog"), StepOp::kApply, Call(), Millis(20000), nullptr, {});
  EXPECT_EQ(a.status, MATIH_STATUS_INTERNAL) << a.message;
  EXPECT_NE(a.message.find("faulty.hog"), std::string::npos) << a.message;
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(4000));
  std::string after = EchoPid();
  EXPECT_NE(after, before) << "a worker left near its memory limit is replaced";
  EXPECT_FALSE(Alive(std::stoi(before)));
#endif
}

TEST_F(IsolationTest, ConcurrentCallsGetWorkersOfTheirOwn) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      StepAnswer a = StepExecutor::CallOnce(Kind("faulty.echo"), StepOp::kApply,
                                            Call("t" + std::to_string(i)), Millis(5000), nullptr, {});
      if (a.status == MATIH_STATUS_OK) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 3);
  EXPECT_GE(Pool().idle_workers(), 1u);
}

// The worker keeps a tenant's outputs between batches and gets only what changed: a value
// changed, a step dropped, steps added before and after, and another tenant in between must all
// reach the plugin exactly as the runner holds them.
TEST_F(IsolationTest, OutputsSentAsChangesStayExact) {
  auto echo_earlier = [&](const std::string& slug) {
    StepAnswer a =
        StepExecutor::CallOnce(Kind("faulty.echo"), StepOp::kApply, Call(slug), Millis(5000), nullptr, {});
    EXPECT_EQ(a.status, MATIH_STATUS_OK) << a.message;
    auto it = a.outputs.find("earlier");
    return it == a.outputs.end() ? std::string("<absent>") : it->second;
  };
  EXPECT_EQ(echo_earlier("acme"), "from-earlier");
  outputs_["earlier-step"]["value"] = "changed";
  outputs_["a-step"]["k"] = "before";
  outputs_["z-step"]["k"] = "after";
  EXPECT_EQ(echo_earlier("acme"), "changed");
  outputs_.erase("earlier-step");
  EXPECT_EQ(echo_earlier("acme"), "<absent>");
  outputs_["earlier-step"]["value"] = "back";
  outputs_.erase("a-step");
  EXPECT_EQ(echo_earlier("acme"), "back");
  // Another tenant on the same worker, then the first again: each sees its own outputs.
  TenantOutputs first = outputs_;
  outputs_.clear();
  EXPECT_EQ(echo_earlier("beta"), "<absent>");
  outputs_ = first;
  outputs_["earlier-step"]["value"] = "first-again";
  EXPECT_EQ(echo_earlier("acme"), "first-again");
  EXPECT_EQ(Pool().workers_started(), 1);
}

// A frame far larger than a socket buffer (params of 4 MiB) goes out in pieces and arrives whole.
TEST_F(IsolationTest, LargeFramesArriveWhole) {
  const std::string big(4u << 20, 'x');
  StepAnswer a =
      StepExecutor::CallOnce(Kind("faulty.echo"), StepOp::kApply,
                             Call("acme", R"({"blob": ")" + big + R"("})"), Millis(10000), nullptr, {});
  EXPECT_EQ(a.status, MATIH_STATUS_OK) << a.message.substr(0, 300);
  outputs_["earlier-step"]["value"] = big;
  EXPECT_EQ(EchoPid().empty(), false);
  StepAnswer b =
      StepExecutor::CallOnce(Kind("faulty.echo"), StepOp::kApply, Call(), Millis(10000), nullptr, {});
  ASSERT_EQ(b.status, MATIH_STATUS_OK) << b.message.substr(0, 300);
  EXPECT_EQ(b.outputs["earlier"], big);
  EXPECT_EQ(Pool().workers_started(), 1);
}

TEST(IsolationLoad, BrokenPluginFilesAreRefusedWithAMessage) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("broken-plugins-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::path real;
  for (const auto& e : fs::directory_iterator(MATIH_TEST_PLUGIN_DIR "/faulty")) real = e.path();
  ASSERT_FALSE(real.empty());
  {
    std::ifstream in(real, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(bytes.size(), 20000u);
    std::ofstream(dir / "truncated.so", std::ios::binary).write(bytes.data(), 20000);
    std::ofstream(dir / "garbage.so", std::ios::binary) << std::string(4096, '\x7f');
  }
  auto host = isolation::LoadPlugins(Options(true, dir.string()));
  ASSERT_FALSE(host.ok());
  EXPECT_NE(host.status().message().find("truncated.so"), std::string::npos) << host.status().message();
  EXPECT_NE(host.status().message().find("garbage.so"), std::string::npos) << host.status().message();
  fs::remove_all(dir);
}

TEST(IsolationLoad, AMissingWorkerBinaryIsAnError) {
  PluginHostOptions o = Options(true);
  o.workers.executable = "/nonexistent/matih-provisioner";
  auto host = isolation::LoadPlugins(o);
  ASSERT_FALSE(host.ok());
  EXPECT_NE(host.status().message().find("plugin worker"), std::string::npos) << host.status().message();
}

// In process: a call that ignores its cancel is abandoned; it owns copies of its inputs (ASan
// reports a use-after-free here if it reads the caller's freed maps), no second call of the same
// step starts beside it, and the abandoned count reaches the cap.
TEST(InProcess, AbandonedCallOwnsItsInputsAndBlocksItsStep) {
  auto host = PluginHost::Load(Options(false));
  ASSERT_TRUE(host.ok()) << host.status().ToString();
  const StepKind* hang = (*host)->Find("faulty.hang");
  ASSERT_NE(hang, nullptr);
  StepExecutor::SetGraces(Millis(100), Millis(100));
  StepExecutor::SetAbandonedCap(1);
  {
    auto outputs = std::make_unique<TenantOutputs>();
    (*outputs)["earlier-step"]["value"] = std::string(64, 'x');
    auto settings = std::make_unique<std::map<std::string, std::string>>();
    (*settings)["faulty.setting"] = std::string(64, 'y');
    StepCall c;
    c.tenant = {"id-inproc", "inproc", "free", "eastus", "{}"};
    c.step_name = "hung-step";
    c.params_json = R"({"seconds": "1.2"})";
    c.outputs = outputs.get();
    c.settings = settings.get();
    StepAnswer a = StepExecutor::CallOnce(*hang, StepOp::kApply, c, Millis(100), nullptr, {});
    EXPECT_EQ(a.status, MATIH_STATUS_DEADLINE_EXCEEDED) << a.message;
    EXPECT_NE(a.message.find("abandoned"), std::string::npos) << a.message;
    // Free and scribble over what the caller lent; the abandoned call keeps reading its copy.
    outputs.reset();
    settings.reset();
    std::vector<std::string> scribble(64, std::string(64, 'z'));
    EXPECT_EQ(StepExecutor::AbandonedCalls(), 1);
    EXPECT_TRUE(StepExecutor::MustStop());
    // No second call of that step for that tenant while the first is alive.
    StepAnswer again = StepExecutor::CallOnce(*hang, StepOp::kApply, c, Millis(100), nullptr, {});
    EXPECT_EQ(again.status, MATIH_STATUS_DEADLINE_EXCEEDED);
    EXPECT_NE(again.message.find("still running"), std::string::npos) << again.message;
  }
  const auto until = Clock::now() + std::chrono::seconds(4);
  while (StepExecutor::AbandonedCalls() > 0 && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(StepExecutor::AbandonedCalls(), 0) << "the abandoned call finished and was counted out";
}

// In process, a batch is one hand-off to the helper thread, by StepKind::CallBatch's rules: the
// calls run in order, an if_needed apply follows only an observe that found drift, and the batch
// ends at the first observe that found drift.
TEST(InProcess, BatchRunsInOrderAndEndsAtDrift) {
  auto host = PluginHost::Load(Options(false));
  ASSERT_TRUE(host.ok()) << host.status().ToString();
  const StepKind* in_sync = (*host)->Find("faulty.hog");  // observe: IN_SYNC
  const StepKind* echo = (*host)->Find("faulty.echo");    // observe: DRIFTED; apply: OK
  ASSERT_TRUE(in_sync && echo);
  ASSERT_TRUE(StepExecutor::Batches(*in_sync, *echo));
  std::map<std::string, std::string> settings{{"faulty.setting", "s"}};
  auto call = [&](const StepKind* kind, const char* method, int number, bool if_needed = false) {
    BatchCall c{kind, method, StepCall{}, Millis(5000), if_needed};
    c.call.tenant = {"id-batch", "batch", "free", "eastus", "{}"};
    c.call.step_number = number;
    c.call.step_name = "step-" + std::to_string(number);
    c.call.params_json = "{}";
    c.call.settings = &settings;
    return c;
  };
  BatchAnswers a = StepExecutor::CallBatch({call(in_sync, "observe", 1), call(in_sync, "observe", 2),
                                            call(echo, "observe", 3), call(in_sync, "observe", 4)},
                                           nullptr);
  ASSERT_EQ(a.size(), 4u);
  ASSERT_TRUE(a[0] && a[1] && a[2]);
  EXPECT_EQ(a[0]->status, MATIH_STATUS_IN_SYNC);
  EXPECT_EQ(a[1]->status, MATIH_STATUS_IN_SYNC);
  EXPECT_EQ(a[2]->status, MATIH_STATUS_DRIFTED);
  EXPECT_FALSE(a[3]) << "the batch ends at the observe that found drift";

  a = StepExecutor::CallBatch({call(echo, "observe", 5), call(echo, "apply", 5, true)}, nullptr);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_TRUE(a[0] && a[1]);
  EXPECT_EQ(a[1]->status, MATIH_STATUS_OK) << a[1]->message;
  a = StepExecutor::CallBatch({call(in_sync, "observe", 6), call(echo, "apply", 6, true)}, nullptr);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(a[0]);
  EXPECT_FALSE(a[1]) << "no apply after an observe that found the step in sync";
}

// In process, a call of a batch keeps its own timeout: one that answers its cancel late ends the
// batch with DEADLINE_EXCEEDED and the calls before it keep their answers; one that ignores its
// cancel is abandoned like a single call, and while it runs batches are refused (one by one,
// each call then waits for an abandoned call of its step).
TEST(InProcess, BatchCallsKeepTheirTimeoutsAndAreAbandonedLikeSingleCalls) {
  auto host = PluginHost::Load(Options(false));
  ASSERT_TRUE(host.ok()) << host.status().ToString();
  const StepKind* in_sync = (*host)->Find("faulty.hog");
  const StepKind* polite = (*host)->Find("faulty.hang_polite");
  const StepKind* rude = (*host)->Find("faulty.hang");
  ASSERT_TRUE(in_sync && polite && rude);
  StepExecutor::SetGraces(Millis(100), Millis(100));
  StepExecutor::SetAbandonedCap(8);
  auto call = [&](const StepKind* kind, int number, Millis timeout, const std::string& params = "{}") {
    BatchCall c{kind, "observe", StepCall{}, timeout, false};
    c.call.tenant = {"id-batch-timeout", "batch-timeout", "free", "eastus", "{}"};
    c.call.step_number = number;
    c.call.step_name = "step-" + std::to_string(number);
    c.call.params_json = params;
    return c;
  };
  const auto started = Clock::now();
  BatchAnswers a = StepExecutor::CallBatch(
      {call(in_sync, 1, Millis(5000)), call(polite, 2, Millis(150)), call(in_sync, 3, Millis(5000))},
      nullptr);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_TRUE(a[0] && a[1]);
  EXPECT_EQ(a[0]->status, MATIH_STATUS_IN_SYNC);
  EXPECT_EQ(a[1]->status, MATIH_STATUS_DEADLINE_EXCEEDED) << a[1]->message;
  EXPECT_FALSE(a[2]);
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(3));

  a = StepExecutor::CallBatch(
      {call(in_sync, 4, Millis(5000)), call(rude, 5, Millis(100), R"({"seconds": "1.2"})"),
       call(in_sync, 6, Millis(5000))},
      nullptr);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_TRUE(a[0] && a[1]);
  EXPECT_EQ(a[0]->status, MATIH_STATUS_IN_SYNC);
  EXPECT_EQ(a[1]->status, MATIH_STATUS_DEADLINE_EXCEEDED);
  EXPECT_NE(a[1]->message.find("abandoned"), std::string::npos) << a[1]->message;
  EXPECT_FALSE(a[2]);
  EXPECT_EQ(StepExecutor::AbandonedCalls(), 1);
  EXPECT_TRUE(
      StepExecutor::CallBatch({call(in_sync, 7, Millis(5000)), call(in_sync, 8, Millis(5000))}, nullptr)
          .empty())
      << "no batch while an abandoned call is alive";
  const auto until = Clock::now() + std::chrono::seconds(4);
  while (StepExecutor::AbandonedCalls() > 0 && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(StepExecutor::AbandonedCalls(), 0) << "the abandoned call finished and was counted out";
  a = StepExecutor::CallBatch({call(in_sync, 7, Millis(5000)), call(in_sync, 8, Millis(5000))}, nullptr);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(a[0] && a[1]);
}

}  // namespace
}  // namespace matih::runner
