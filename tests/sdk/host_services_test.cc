// Host services: what a plugin reads and writes through matih_host_api during a call, seen
// through the probe test plugin.
#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <thread>
#include <vector>

#include "plugin_test_support.h"
#include "telemetry/logger.h"

namespace matih::runner {
namespace {

using matih::testing::LoadPlugins;
using matih::testing::TestCall;
using matih::testing::TestPluginDir;

class HostServices : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = LoadPlugins({TestPluginDir("probe")});
    ASSERT_TRUE(host_);
  }
  const StepKind& Kind(const std::string& name) {
    const StepKind* kind = host_->Find(name);
    EXPECT_NE(kind, nullptr) << name;
    return *kind;
  }
  std::unique_ptr<PluginHost> host_;
};

TEST_F(HostServices, PluginSeesTheTenantStepParamsAndRunOfItsCall) {
  StepCall call = TestCall("echo-step");
  StepAnswer answer = Kind("test.echo").Apply(call);
  ASSERT_EQ(answer.status, MATIH_STATUS_OK) << answer.message;
  EXPECT_EQ(answer.outputs.at("tenant_id"), call.tenant.id);
  EXPECT_EQ(answer.outputs.at("slug"), "acme");
  EXPECT_EQ(answer.outputs.at("tier"), "professional");
  EXPECT_EQ(answer.outputs.at("spec"), call.tenant.spec_json);
  EXPECT_EQ(answer.outputs.at("step"), "echo-step");
  EXPECT_EQ(answer.outputs.at("params"), R"({"size":3})");
  EXPECT_EQ(answer.outputs.at("run"), "run-42");
}

TEST_F(HostServices, SettingsComeFromTheRunnersTargetsAndAreOtherwiseNotFound) {
  StepCall call = TestCall("echo-step");
  EXPECT_EQ(Kind("test.echo").Apply(call).outputs.at("setting"), "<none>") << "no settings at all";
  std::map<std::string, std::string> settings{{"test.setting", "from-config"}};
  call.settings = &settings;
  StepAnswer answer = Kind("test.echo").Apply(call);
  EXPECT_EQ(answer.outputs.at("setting"), "from-config");
  EXPECT_EQ(answer.outputs.at("missing_setting"), "<none>");
}

TEST_F(HostServices, OutputsReadEarlierStepsThisStepsLastRunAndThisCall) {
  StepCall call = TestCall("echo-step");
  StepAnswer without = Kind("test.echo").Apply(call);
  EXPECT_EQ(without.outputs.at("earlier"), "<none>");
  EXPECT_EQ(without.outputs.at("own_previous"), "<none>");
  EXPECT_EQ(without.outputs.at("roundtrip"), "set in this call");

  TenantOutputs recorded{{"earlier-step", {{"key", "value-from-step-6"}}},
                         {"echo-step", {{"previous", "last-run"}}}};
  call.outputs = &recorded;
  StepAnswer with = Kind("test.echo").Apply(call);
  EXPECT_EQ(with.outputs.at("earlier"), "value-from-step-6");
  EXPECT_EQ(with.outputs.at("own_previous"), "last-run");
}

TEST_F(HostServices, DeadlineIsTheCallsInUnixMilliseconds) {
  StepCall call = TestCall("echo-step");
  call.deadline = std::chrono::system_clock::time_point(std::chrono::milliseconds(1900000000123));
  EXPECT_EQ(Kind("test.echo").Apply(call).outputs.at("deadline_ms"), "1900000000123");
}

TEST_F(HostServices, CallWithoutADeadlineLooksFarAway) {
  StepCall call = TestCall("echo-step");
  call.deadline = {};
  const long long ms = std::stoll(Kind("test.echo").Apply(call).outputs.at("deadline_ms"));
  const long long in_a_century =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          (std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 100)).time_since_epoch())
          .count();
  EXPECT_GT(ms, in_a_century);
}

TEST_F(HostServices, CancellationReachesALongStep) {
  std::atomic<bool> cancel{false};
  StepCall call = TestCall("wait");
  call.cancel = &cancel;
  StepAnswer finished = Kind("test.wait_cancel").Apply(call);
  EXPECT_EQ(finished.status, MATIH_STATUS_OK);
  EXPECT_EQ(finished.outputs.at("finished"), "yes");
  cancel = true;
  StepAnswer cancelled = Kind("test.wait_cancel").Apply(call);
  EXPECT_EQ(cancelled.status, MATIH_STATUS_CANCELLED);
  EXPECT_TRUE(cancelled.outputs.empty());
}

TEST_F(HostServices, DryRunObservesButNeverApplyOrRemove) {
  StepCall call = TestCall("echo-step");
  call.dry_run = true;
  StepAnswer observed = Kind("test.echo").Observe(call);
  EXPECT_EQ(observed.status, MATIH_STATUS_DRIFTED);
  StepAnswer applied = Kind("test.echo").Apply(call);
  EXPECT_EQ(applied.status, MATIH_STATUS_FAILED_PRECONDITION);
  EXPECT_NE(applied.message.find("refused in a dry run"), std::string::npos) << applied.message;
  EXPECT_TRUE(applied.outputs.empty()) << "the plugin was not called";
  EXPECT_EQ(Kind("test.echo").Remove(call).status, MATIH_STATUS_FAILED_PRECONDITION);
  call.dry_run = false;
  EXPECT_EQ(Kind("test.echo").Apply(call).outputs.at("dry_run"), "no");
}

TEST_F(HostServices, DriftedObservationCarriesTheDiff) {
  StepAnswer answer = Kind("test.echo").Observe(TestCall("echo-step"));
  EXPECT_EQ(answer.status, MATIH_STATUS_DRIFTED);
  EXPECT_EQ(answer.message, "tenant acme differs");
  EXPECT_FALSE(answer.is_error());
}

TEST_F(HostServices, LogLinesCarryRunTenantStepKindAndSourceLine) {
  Logger::Configure(LogFormat::kText, spdlog::level::info);
  ::testing::internal::CaptureStderr();
  Kind("test.echo").Apply(TestCall("echo-step"));
  const std::string logs = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(logs.find("run=run-42 tenant=acme step=echo-step [test.echo] echo applied (probe.cc:42)"),
            std::string::npos)
      << logs;
}

TEST_F(HostServices, ExtensionLookupAnswersNoneForNow) {
  EXPECT_EQ(Kind("test.echo").Apply(TestCall("echo-step")).outputs.at("extension"), "none");
}

TEST_F(HostServices, ValidateParamsAsksThePlugin) {
  Status refused = Kind("test.validated").ValidateParams("{}");
  EXPECT_EQ(refused.code(), Code::kInvalidArgument);
  EXPECT_NE(refused.message().find("params need a size"), std::string::npos) << refused.ToString();
  EXPECT_NE(refused.message().find("test.validated"), std::string::npos) << refused.ToString();
  EXPECT_TRUE(Kind("test.validated").ValidateParams(R"({"size":2})").ok());
}

TEST_F(HostServices, ConcurrentCallsEachSeeOnlyTheirOwnTenant) {
  const StepKind& echo = Kind("test.echo");
  Logger::Configure(LogFormat::kText, spdlog::level::warn);  // 800 "echo applied" lines say nothing
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&echo, w] {
      for (int i = 0; i < 200; ++i) {
        StepCall call = TestCall("echo-step");
        call.tenant.slug = "tenant-" + std::to_string(w) + "-" + std::to_string(i);
        TenantOutputs recorded{{"earlier-step", {{"key", call.tenant.slug}}}};
        call.outputs = &recorded;
        StepAnswer answer = echo.Apply(call);
        ASSERT_EQ(answer.status, MATIH_STATUS_OK) << answer.message;
        ASSERT_EQ(answer.outputs.at("slug"), call.tenant.slug);
        ASSERT_EQ(answer.outputs.at("earlier"), call.tenant.slug);
      }
    });
  }
  for (auto& t : workers) t.join();
  Logger::Configure(LogFormat::kText, spdlog::level::info);
}

TEST_F(HostServices, SecretsWithoutAStoreAreRefusedNotCrashed) {
  std::map<std::string, std::string> settings{{"test.secret_value", "some-value"}};
  StepCall call = TestCall("put");
  call.settings = &settings;
  StepAnswer put = Kind("test.secret_put").Apply(call);
  EXPECT_EQ(put.status, MATIH_STATUS_FAILED_PRECONDITION);
  EXPECT_EQ(put.message, "host refused to store secret");
  // No store is not "absent": a step must not mistake it for a secret never issued.
  EXPECT_EQ(Kind("test.secret_check").Apply(call).status, MATIH_STATUS_FAILED_PRECONDITION);
}

}  // namespace
}  // namespace matih::runner
