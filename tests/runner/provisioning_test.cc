// The engine end to end: claim, orchestrator, provisioning service, real plugin, real tables.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "engine/provisioning_service.h"
#include "runner/runner_fixture.h"

namespace matih::testing {
namespace {

using S = TenantStatus;
using V = std::vector<std::string>;

class ProvisioningTest : public RunnerFixture {};

TEST_F(ProvisioningTest, PendingFreeTenantBecomesActiveWithEveryStepRecorded) {
  Add("acme");
  RunSummary run = RunOk();
  ASSERT_EQ(run.tenants.size(), 1u);
  EXPECT_EQ(run.tenants[0].outcome, "active");
  EXPECT_EQ(Tenant("acme").status, S::kActive);
  auto steps = Steps("acme");
  for (const char* name : {"alpha", "beta", "gamma", "delta"})
    EXPECT_EQ(steps[name].status, StepStatus::kDone) << name;
  EXPECT_EQ(steps["cluster"].status, StepStatus::kSkipped);
  EXPECT_EQ(steps["alpha"].outputs["path"], Target("acme", "alpha").string());
  EXPECT_EQ(Journal("acme"), (V{"apply alpha", "apply beta", "apply gamma", "apply delta"}));
  EXPECT_EQ(Tenant("acme").observed_generation, Tenant("acme").generation);
}

TEST_F(ProvisioningTest, StepOfAServiceRunsOnlyForTenantsThatRequestIt) {
  // gamma deploys the service "bi-service" (when_service): a tenant without it gets a SKIPPED row.
  UseCatalog({{"gamma", "{}, when_service: bi-service"}});
  Add("with-bi", "free", R"({"services": ["bi-service"]})");
  Add("without-bi", "free", R"({"services": ["query-engine"]})");
  RunOk();
  EXPECT_EQ(Steps("with-bi")["gamma"].status, StepStatus::kDone);
  EXPECT_EQ(Steps("without-bi")["gamma"].status, StepStatus::kSkipped);
  EXPECT_EQ(Journal("without-bi"), (V{"apply alpha", "apply beta", "apply delta"}));
  EXPECT_EQ(Tenant("without-bi").status, S::kActive);
}

TEST_F(ProvisioningTest, DedicatedTierRunsItsOwnPhaseBeforeTheRest) {
  Add("bigco", "professional");
  RunOk();
  EXPECT_EQ(Journal("bigco"),
            (V{"apply alpha", "apply beta", "apply cluster", "apply gamma", "apply delta"}));
}

TEST_F(ProvisioningTest, OnboardingCostsOneCommitPerAppliedStepPlusOne) {
  Add("acme");
  RunSummary run = RunOk();
  EXPECT_EQ(run.tenants[0].commits, 4 + 1);
}

TEST_F(ProvisioningTest, InSyncDriftPassAppliesNothingInOneCommit) {
  Add("acme");
  RunOk();
  RunOptions drift;
  drift.drift_interval = Millis(0);
  drift.mode = ClaimMode::kDriftOnly;
  RunSummary pass = RunOk(drift);
  ASSERT_EQ(pass.tenants.size(), 1u);
  EXPECT_EQ(pass.tenants[0].outcome, "in_sync");
  EXPECT_EQ(pass.tenants[0].commits, 1);
  EXPECT_EQ(Journal("acme").size(), 4u);
  EXPECT_EQ(Calls("acme", "gamma", "apply"), 1);
}

TEST_F(ProvisioningTest, TransientErrorIsRetriedWithBackoffThenSucceeds) {
  UseCatalog({{"gamma", "{fail: transient, fail_times: 2}"}});
  Add("acme");
  RunSummary run = RunOk();
  EXPECT_EQ(run.tenants[0].outcome, "active");
  EXPECT_EQ(Calls("acme", "gamma", "apply"), 3);
  EXPECT_EQ(CountEvents("acme", "step.retry"), 2);
  auto retries = Audit("acme");
  for (const auto& r : retries) {
    if (r.event.event == "step.retry") {
      EXPECT_GE(r.event.details["delay_ms"].get<int64_t>(), 0);
    }
  }
}

TEST_F(ProvisioningTest, PermanentFailureRollsBackInReverseOrder) {
  UseCatalog({{"delta", "{fail: permanent}"}});
  Add("acme");
  RunSummary run = RunOk();
  EXPECT_EQ(run.tenants[0].outcome, "rolled_back");
  EXPECT_EQ(run.failed(), 1);
  EXPECT_EQ(Tenant("acme").status, S::kRolledBack);
  EXPECT_EQ(Calls("acme", "delta", "apply"), 1);  // permanent: no retry
  EXPECT_EQ(Journal("acme"), (V{"apply alpha", "apply beta", "apply gamma", "remove delta", "remove gamma",
                                "remove beta", "remove alpha"}));
  for (const char* name : {"alpha", "beta", "gamma"})
    EXPECT_FALSE(std::filesystem::exists(Target("acme", name)));
  EXPECT_EQ(Steps("acme")["alpha"].status, StepStatus::kRemoved);
  EXPECT_NE(Tenant("acme").last_error.find("failed permanently"), std::string::npos);
}

TEST_F(ProvisioningTest, ParkPolicyLeavesTheTenantFailedWithItsStepsInPlace) {
  engine_.failure_policy = FailurePolicy::kPark;
  UseCatalog({{"delta", "{fail: permanent}"}});
  Add("acme");
  RunSummary run = RunOk();
  EXPECT_EQ(run.tenants[0].outcome, "failed");
  EXPECT_EQ(Tenant("acme").status, S::kFailed);
  EXPECT_TRUE(std::filesystem::exists(Target("acme", "gamma")));
  EXPECT_EQ(Steps("acme")["delta"].status, StepStatus::kFailed);
}

TEST_F(ProvisioningTest, TransientFailuresWaitForTheTenantBackoffThenApplyThePolicy) {
  engine_.max_tenant_attempts = 2;
  UseCatalog({{"gamma", "{fail: transient}"}}, "{attempts: 2, initial_backoff: 1ms, max_backoff: 1ms}");
  Add("acme");
  RunSummary first = RunOk();
  EXPECT_EQ(first.tenants[0].outcome, "retry_later");
  TenantRecord t = Tenant("acme");
  EXPECT_EQ(t.status, S::kProvisioning);
  EXPECT_EQ(t.attempts, 1);
  EXPECT_TRUE(RunOk().tenants.empty()) << "claimed before its retry time";
  Sql("UPDATE matih.tenants SET next_attempt_at = now() WHERE slug = 'acme'");
  RunSummary second = RunOk();
  ASSERT_EQ(second.tenants.size(), 1u);
  EXPECT_EQ(second.tenants[0].outcome, "rolled_back");
  EXPECT_EQ(Tenant("acme").attempts, 2);
  EXPECT_EQ(Calls("acme", "alpha", "apply"), 1) << "the second run resumed; done steps are not redone";
}

TEST_F(ProvisioningTest, AStepThatRunsPastItsTimeoutIsCancelledAndCounted) {
  engine_.failure_policy = FailurePolicy::kPark;
  engine_.max_tenant_attempts = 1;
  // A one-step catalog with a short timeout; the plugin hangs far longer, polling its cancel flag.
  std::string yaml =
      "version: 1\nphases: {0: a}\nflows:\n  free: {placement: shared, phases: [0]}\n"
      "steps:\n  - {number: 1, name: gamma, phase: 0, kind: test.file, tiers: [free], timeout: 300ms, "
      "retry: {attempts: 1}, params: {hang_ms: 20000}}\n";
  auto short_catalog = StepCatalog::LoadString(yaml, "timeout catalog");
  ASSERT_TRUE(short_catalog.ok());
  catalog_ = std::make_unique<StepCatalog>(std::move(*short_catalog));
  Add("slow");
  auto started = std::chrono::steady_clock::now();
  RunSummary run = RunOk();
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(run.tenants[0].outcome, "failed");
  EXPECT_NE(Tenant("slow").last_error.find("deadline_exceeded"), std::string::npos)
      << Tenant("slow").last_error;
  EXPECT_NE(metrics_.Text().find("matih_provisioner_step_timeouts_total{step=\"gamma\"} 1"),
            std::string::npos);
}

TEST_F(ProvisioningTest, ResumesAfterACrashMidStepWithoutApplyingTwice) {
  Add("acme");
  // The state a runner killed during gamma's apply leaves behind: alpha and beta done, gamma's
  // intent recorded, gamma's object created, the lease held by a dead runner and expired.
  UseCatalog({{"delta", "{fail: permanent}"}});
  engine_.failure_policy = FailurePolicy::kPark;
  RunOk();
  Sql("SET session_replication_role = replica;"
      "UPDATE matih.tenants SET status = 'PROVISIONING', lease_owner = 'dead:1', lease_epoch = lease_epoch + "
      "1,"
      " lease_expires_at = now() - interval '1 second' WHERE slug = 'acme';"
      "UPDATE matih.tenant_steps SET status = 'RUNNING' WHERE step_name = 'gamma';"
      "UPDATE matih.tenant_steps SET status = 'PENDING' WHERE step_name = 'delta';");
  UseCatalog();
  int gamma_applies = Calls("acme", "gamma", "apply");
  int alpha_observes = Calls("acme", "alpha", "observe");
  RunSummary run = RunOk();
  ASSERT_EQ(run.tenants.size(), 1u) << "an expired lease must be claimable";
  EXPECT_EQ(run.tenants[0].outcome, "active");
  EXPECT_EQ(Calls("acme", "gamma", "apply"), gamma_applies)
      << "gamma's object was adopted, not created again";
  EXPECT_EQ(Calls("acme", "alpha", "observe"), alpha_observes) << "steps known done are not touched";
  bool adopted = false;
  for (const auto& r : Audit("acme"))
    adopted |= r.event.event == "step.finished" && r.event.step_name == "gamma" &&
               r.event.details["result"] == "adopted";
  EXPECT_TRUE(adopted);
}

TEST_F(ProvisioningTest, AStopRequestHandsTheTenantBackForTheNextRunToResume) {
  UseCatalog({{"gamma", "{hang_ms: 10000}"}});
  Add("acme");
  std::atomic<bool> stop{false};
  ServiceDeps deps{catalog_.get(), plugins_.get(), secrets_.get(),    &metrics_,
                   &engine_,       NewUuid(),      "stopping-runner", nullptr};
  BatchRun run(*database_, deps, RunOptions{});
  run.SetStopFlag(&stop);
  std::thread signal([&] {
    for (int i = 0; i < 200 && Calls("acme", "gamma", "apply") == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stop = true;  // what SIGTERM does
  });
  auto summary = run.Execute();
  signal.join();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->tenants[0].outcome, "retry_later");
  TenantRecord t = Tenant("acme");
  EXPECT_EQ(t.status, TenantStatus::kProvisioning);
  EXPECT_TRUE(t.lease_owner.empty()) << "the lease was handed back";
  EXPECT_EQ(Steps("acme")["gamma"].status, StepStatus::kRunning);

  UseCatalog();
  RunSummary next = RunOk();
  ASSERT_EQ(next.tenants.size(), 1u) << "due at once";
  EXPECT_EQ(next.tenants[0].outcome, "active");
}

TEST_F(ProvisioningTest, DriftIsDetectedAndCorrectedWithItsDiff) {
  Add("acme");
  RunOk();
  std::ofstream(Target("acme", "gamma"), std::ios::trunc) << "edited by hand";
  RunOptions drift;
  drift.drift_interval = Millis(0);
  RunSummary pass = RunOk(drift);
  EXPECT_EQ(pass.tenants[0].outcome, "drift_corrected");
  std::ifstream in(Target("acme", "gamma"));
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "ok");
  std::string diff;
  for (const auto& r : Audit("acme"))
    if (r.event.event == "drift.detected") diff = r.event.details["diff"];
  EXPECT_EQ(diff, "content 'edited by hand' should be 'ok'");
  EXPECT_EQ(CountEvents("acme", "drift.corrected"), 1);
  EXPECT_NE(metrics_.Text().find("matih_provisioner_drift_corrected_total{step=\"gamma\"} 1"),
            std::string::npos);
}

TEST_F(ProvisioningTest, PlanReportsDriftAndChangesNothing) {
  Add("acme");
  RunOk();
  std::ofstream(Target("acme", "beta"), std::ios::trunc) << "x";
  std::filesystem::remove(Target("acme", "delta"));
  std::string before = Snapshot();
  auto journal = Journal("acme");

  auto conn = database_->Connect();
  ASSERT_TRUE(conn.ok());
  TenantRecord t = Tenant("acme");
  std::map<int, StepRecord> records;
  for (auto& [name, rec] : Steps("acme")) records[rec.number] = rec;
  ServiceDeps deps{catalog_.get(), plugins_.get(), secrets_.get(), nullptr,
                   &engine_,       "plan",         "test",         nullptr};
  TenantSession unused(**conn, Lease{t.id, "plan", -1}, t.status, "plan", "test");
  ProvisioningService service(deps, unused, t, records, nullptr);
  auto plan = service.Plan();
  ASSERT_EQ(plan.size(), 5u);
  EXPECT_EQ(plan[0].state, "in_sync");
  EXPECT_EQ(plan[1].state, "drifted");
  EXPECT_EQ(plan[1].diff, "content 'x' should be 'ok'");
  EXPECT_EQ(plan[3].state, "absent");
  EXPECT_EQ(plan[4].state, "skipped");
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(Journal("acme"), journal);
}

TEST_F(ProvisioningTest, UpgradeToADedicatedTierAddsItsStepsAndReturnsToActive) {
  Add("acme");
  RunOk();
  auto upgraded =
      TenantStore(*database_).Command("acme", "test", [](const TenantRecord&) -> Result<TenantChange> {
        TenantChange c;
        c.status = S::kUpgrading;
        c.tier = "professional";
        c.bump_generation = true;
        c.audit.event = "operator.upgrade";
        return c;
      });
  ASSERT_TRUE(upgraded.ok()) << upgraded.status().ToString();
  RunSummary run = RunOk();
  EXPECT_EQ(run.tenants[0].outcome, "upgraded");
  EXPECT_EQ(Tenant("acme").status, S::kActive);
  EXPECT_EQ(Steps("acme")["cluster"].status, StepStatus::kDone);
  EXPECT_EQ(Calls("acme", "alpha", "apply"), 1);
}

TEST_F(ProvisioningTest, DeletionWaitsForTheGracePeriodThenRemovesEverythingAndKeepsTheRow) {
  Add("acme");
  RunOk();
  ASSERT_TRUE(secrets_->Put(Tenant("acme").id, "token", "s3cr3t-value").ok());
  auto schedule = [&](const std::string& grace) {
    return TenantStore(*database_).Command("acme", "test", [&](const TenantRecord&) -> Result<TenantChange> {
      TenantChange c;
      c.status = S::kPendingDeletion;
      c.deletion_grace = grace;
      c.audit.event = "operator.delete";
      return c;
    });
  };
  ASSERT_TRUE(schedule("1 hour").ok());
  EXPECT_TRUE(RunOk().tenants.empty()) << "claimed during its grace period";
  Sql("UPDATE matih.tenants SET deletion_due_at = now() - interval '1 second' WHERE slug = 'acme'");
  RunSummary run = RunOk();
  ASSERT_EQ(run.tenants.size(), 1u);
  EXPECT_EQ(run.tenants[0].outcome, "deleted");
  EXPECT_EQ(Tenant("acme").status, S::kDeleted);
  EXPECT_EQ(Journal("acme").back(), "remove alpha");
  EXPECT_EQ(secrets_->Get(Tenant("acme").id, "token").status().code(), Code::kNotFound);
}

TEST_F(ProvisioningTest, OperatorRollbackOfAParkedTenantRemovesItsSteps) {
  engine_.failure_policy = FailurePolicy::kPark;
  UseCatalog({{"delta", "{fail: permanent}"}});
  Add("acme");
  RunOk();
  ASSERT_EQ(Tenant("acme").status, S::kFailed);
  auto r = TenantStore(*database_).Command("acme", "test", [](const TenantRecord&) -> Result<TenantChange> {
    TenantChange c;
    c.status = S::kRollingBack;
    c.audit.event = "operator.rollback";
    return c;
  });
  ASSERT_TRUE(r.ok());
  RunSummary run = RunOk();
  EXPECT_EQ(run.tenants[0].outcome, "rolled_back");
  EXPECT_FALSE(std::filesystem::exists(Target("acme", "alpha")));
}

TEST_F(ProvisioningTest, OperatorCommandsRefuseIllegalMovesAndChangeNothing) {
  Add("acme");
  std::string before = Snapshot();
  auto r = TenantStore(*database_).Command("acme", "test", [](const TenantRecord&) -> Result<TenantChange> {
    TenantChange c;
    c.status = S::kSuspended;
    c.audit.event = "operator.suspend";
    return c;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("PENDING -> SUSPENDED"), std::string::npos);
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace matih::testing
