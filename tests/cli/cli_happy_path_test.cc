// Whole journeys through the binary with the test plugin doing real (file) work: onboarding to
// ACTIVE, a permanent failure rolled back, drift corrected, operator commands, the audit trail.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_fixture.h"

namespace matih::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> EventsOf(const Json& history) {
  std::vector<std::string> events;
  for (const auto& e : history) events.push_back(e["event"]);
  return events;
}

class CliJourneyTest : public CliTest {
 protected:
  Json HistoryOf(const std::string& slug) {
    CliResult r = Cli({"history", slug, "--format", "json"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return Json::parse(r.out);
  }
};

TEST_F(CliJourneyTest, MigrateIsIdempotent) {
  CliResult first = Cli({"migrate"});
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  EXPECT_THAT(first.out, HasSubstr("applied"));
  CliResult second = Cli({"migrate"});
  ASSERT_EQ(second.exit_code, 0) << Describe(second);
  EXPECT_THAT(second.out, HasSubstr("schema is up to date"));
}

TEST_F(CliJourneyTest, AddedTenantIsPendingWithEveryCatalogStep) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  CliResult r =
      Cli({"tenants", "add", "--slug", "acme", "--tier", "free", "--admin-email", "ops@acme.example"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("acme"));
  EXPECT_EQ(TenantStatus("acme"), "PENDING");
  // No step row until a run works the step; `tenants show` lists every catalog step as PENDING.
  EXPECT_EQ(Query("SELECT count(*) FROM matih.tenant_steps"), "0");
  CliResult show = Cli({"tenants", "show", "acme", "--format", "json"});
  ASSERT_EQ(show.exit_code, 0) << Describe(show);
  const Json steps = Json::parse(show.out)["steps"];
  ASSERT_EQ(steps.size(), 4u) << show.out;
  for (const auto& s : steps) EXPECT_EQ(s["status"], "PENDING") << show.out;
  EXPECT_EQ(Query("SELECT spec->>'admin_email' FROM matih.tenants WHERE slug = 'acme'"), "ops@acme.example");
}

TEST_F(CliJourneyTest, AddWithSpecFileStoresTheSpec) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  std::string spec = WriteFile("spec.json", R"({"services": ["query-engine", "bi-service"]})");
  CliResult r = Cli({"tenants", "add", "--slug", "acme", "--tier", "starter", "--admin-email",
                     "ops@acme.example", "--spec", spec});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Query("SELECT spec->'services'->>1 FROM matih.tenants WHERE slug = 'acme'"), "bi-service");
}

TEST_F(CliJourneyTest, RunProvisionsAPendingTenantToActive) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("acme", "free"));
  CliResult r = Cli({"run"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("acme"));
  EXPECT_THAT(r.out, HasSubstr("ACTIVE"));
  EXPECT_EQ(TenantStatus("acme"), "ACTIVE");
  // The plugin did its real work, and skipped the dedicated-only step.
  EXPECT_EQ(ReadFile(state_dir_ + "/acme/validate-request"), "ok");
  EXPECT_EQ(ReadFile(state_dir_ + "/acme/create-tenant-record"), "ok");
  EXPECT_EQ(ReadFile(state_dir_ + "/acme/activate-tenant"), "ok");
  EXPECT_FALSE(fs::exists(state_dir_ + "/acme/terraform-apply"));
  EXPECT_EQ(ReadFile(state_dir_ + "/acme/journal"),
            "apply validate-request\napply create-tenant-record\napply activate-tenant\n");
}

TEST_F(CliJourneyTest, DedicatedTierRunsItsCloudInfrastructurePhaseBeforeFinalization) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("bigco", "enterprise"));
  CliResult r = Cli({"run"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(TenantStatus("bigco"), "ACTIVE");
  EXPECT_EQ(
      ReadFile(state_dir_ + "/bigco/journal"),
      "apply validate-request\napply create-tenant-record\napply terraform-apply\napply activate-tenant\n");
}

TEST_F(CliJourneyTest, SecondRunFindsNothingDue) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddActiveTenant("acme"));
  CliResult r = Cli({"run"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("no tenant was due"));
}

TEST_F(CliJourneyTest, PermanentFailureRollsBackInReverseOrderAndExitsThree) {
  catalog_ = WriteCatalog({{4, "{value: ok, fail: permanent}"}});
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("acme", "free"));
  CliResult r = Cli({"run"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("ROLLED_BACK"));
  EXPECT_EQ(TenantStatus("acme"), "ROLLED_BACK");
  EXPECT_EQ(ReadFile(state_dir_ + "/acme/journal"),
            "apply validate-request\napply create-tenant-record\n"
            "remove activate-tenant\nremove create-tenant-record\nremove validate-request\n");
  EXPECT_FALSE(fs::exists(state_dir_ + "/acme/validate-request"));
  EXPECT_FALSE(fs::exists(state_dir_ + "/acme/create-tenant-record"));
  CliResult show = Cli({"tenants", "show", "acme", "--format", "json"});
  ASSERT_EQ(show.exit_code, 0) << Describe(show);
  Json j = Json::parse(show.out);
  EXPECT_EQ(j["status"], "ROLLED_BACK");
  EXPECT_THAT(j["last_error"].get<std::string>(), HasSubstr("failed permanently"));
  EXPECT_EQ(j["steps"][3]["status"], "REMOVED");
}

TEST_F(CliJourneyTest, ParkPolicyLeavesAFailedTenantFailedAndRetryProvisionsItAgain) {
  catalog_ = WriteCatalog({{2, "{value: ok, fail: permanent}"}});
  config_ = WriteConfig("\n[run]\nfailure_policy = park\n");
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("acme", "free"));
  CliResult r = Cli({"run"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_EQ(TenantStatus("acme"), "FAILED");
  EXPECT_TRUE(fs::exists(state_dir_ + "/acme/validate-request")) << "park must leave applied steps in place";

  // The operator fixes the catalog and retries.
  catalog_ = WriteCatalog();
  config_ = WriteConfig("\n[run]\nfailure_policy = park\n");
  CliResult retry = Cli({"retry", "acme"});
  ASSERT_EQ(retry.exit_code, 0) << Describe(retry);
  EXPECT_EQ(TenantStatus("acme"), "PROVISIONING");
  CliResult again = Cli({"run"});
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_EQ(TenantStatus("acme"), "ACTIVE");
}

TEST_F(CliJourneyTest, DriftPassRestoresATargetChangedByHand) {
  config_ = WriteConfig("\n[run]\ndrift_interval = 1ms\n");
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddActiveTenant("acme"));
  std::ofstream(state_dir_ + "/acme/create-tenant-record", std::ios::trunc) << "tampered";
  CliResult r = Cli({"run", "--drift-only"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(ReadFile(state_dir_ + "/acme/create-tenant-record"), "ok");
  EXPECT_EQ(TenantStatus("acme"), "ACTIVE");
  Json h = HistoryOf("acme");
  auto events = EventsOf(h);
  EXPECT_NE(std::find(events.begin(), events.end(), "drift.detected"), events.end());
  EXPECT_NE(std::find(events.begin(), events.end(), "drift.corrected"), events.end());
  for (const auto& e : h)
    if (e["event"] == "drift.detected") {
      EXPECT_EQ(e["step_name"], "create-tenant-record");
      EXPECT_THAT(e["details"].dump(), HasSubstr("tampered"));
    }
}

// Step outputs are read back from the database by later commands and runs (a regression: the
// records' outputs were parsed into a temporary that died before it was read, which crashed
// `tenants show` and every run after the first).
class CliOutputsTest : public CliJourneyTest {
 protected:
  void SetUp() override {
    CliJourneyTest::SetUp();
    catalog_ = WriteCatalog(
        {{2, "{value: ok, output: path}"}, {4, "{value: ok, require_output: 'create-tenant-record:path'}"}});
    config_ = WriteConfig("\n[run]\ndrift_interval = 1ms\n");
    ASSERT_NO_FATAL_FAILURE(Migrate());
    ASSERT_NO_FATAL_FAILURE(AddActiveTenant("acme"));
  }
};

TEST_F(CliOutputsTest, TenantsShowWorksForStepsWithOutputs) {
  CliResult r = Cli({"tenants", "show", "acme", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Json::parse(r.out)["steps"][1]["status"], "DONE");
  EXPECT_EQ(Json::parse(r.out)["steps"][1]["outputs"]["path"], state_dir_ + "/acme/create-tenant-record");
}

TEST_F(CliOutputsTest, TenantsShowListsTheOutputsOfItsSteps) {
  CliResult r = Cli({"tenants", "show", "acme"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("OUTPUT")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("create-tenant-record  path    " + state_dir_ + "/acme/create-tenant-record"))
      << r.out;
}

TEST_F(CliOutputsTest, DriftPassHandsEarlierOutputsToALaterStep) {
  std::filesystem::remove(state_dir_ + "/acme/activate-tenant");
  CliResult r = Cli({"run", "--drift-only"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(ReadFile(state_dir_ + "/acme/activate-tenant"), "ok");
  EXPECT_EQ(TenantStatus("acme"), "ACTIVE");
}

TEST_F(CliJourneyTest, PendingOnlyRunLeavesDriftAlone) {
  config_ = WriteConfig("\n[run]\ndrift_interval = 1ms\n");
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddActiveTenant("acme"));
  std::ofstream(state_dir_ + "/acme/create-tenant-record", std::ios::trunc) << "tampered";
  CliResult r = Cli({"run", "--pending-only"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(ReadFile(state_dir_ + "/acme/create-tenant-record"), "tampered");
}

TEST_F(CliJourneyTest, HistoryShowsEveryMoveOfAProvisioning) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddActiveTenant("acme"));
  auto events = EventsOf(HistoryOf("acme"));
  EXPECT_THAT(events,
              ElementsAre("operator.add", "tenant.claimed", "transition", "step.started", "step.finished",
                          "step.started", "step.finished", "step.started", "step.finished", "transition"));
  CliResult table = Cli({"history", "acme"});
  ASSERT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_THAT(table.out, HasSubstr("step.finished"));
  EXPECT_THAT(table.out, HasSubstr("matih-test-steps"));
}

TEST_F(CliJourneyTest, AuditVerifyPassesAfterARunAndFindsATamperedRow) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddActiveTenant("acme"));
  CliResult ok = Cli({"audit", "verify"});
  EXPECT_EQ(ok.exit_code, 0) << Describe(ok);
  EXPECT_THAT(ok.out, HasSubstr("intact"));
  db_->Exec(
      "SET session_replication_role = replica; "
      "UPDATE matih.audit_events SET details = '{\"forged\": 1}' WHERE seq = 3 AND tenant_id = "
      "(SELECT id FROM matih.tenants WHERE slug = 'acme')");
  CliResult bad = Cli({"audit", "verify", "acme"});
  EXPECT_EQ(bad.exit_code, 1) << Describe(bad);
  EXPECT_THAT(bad.out, HasSubstr("acme"));
  EXPECT_THAT(bad.out, HasSubstr("event 3"));
}

TEST_F(CliJourneyTest, SuspendThenResumeAnActiveTenant) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddActiveTenant("acme"));
  CliResult s = Cli({"suspend", "acme"});
  ASSERT_EQ(s.exit_code, 0) << Describe(s);
  EXPECT_EQ(TenantStatus("acme"), "SUSPENDED");
  CliResult r = Cli({"resume", "acme"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(TenantStatus("acme"), "ACTIVE");
  auto events = EventsOf(HistoryOf("acme"));
  EXPECT_NE(std::find(events.begin(), events.end(), "operator.suspend"), events.end());
  EXPECT_NE(std::find(events.begin(), events.end(), "operator.resume"), events.end());
}

TEST_F(CliJourneyTest, UpgradeToADedicatedTierAppliesItsExtraStep) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddActiveTenant("acme", "starter"));
  CliResult u = Cli({"upgrade", "acme", "--tier", "professional"});
  ASSERT_EQ(u.exit_code, 0) << Describe(u);
  EXPECT_EQ(TenantStatus("acme"), "UPGRADING");
  CliResult r = Cli({"run"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(TenantStatus("acme"), "ACTIVE");
  EXPECT_EQ(Query("SELECT tier FROM matih.tenants WHERE slug = 'acme'"), "professional");
  EXPECT_TRUE(fs::exists(state_dir_ + "/acme/terraform-apply"));
}

TEST_F(CliJourneyTest, DowngradeFromADedicatedTierIsRefusedAndChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddActiveTenant("acme", "professional"));
  CliResult u = Cli({"upgrade", "acme", "--tier", "free"});
  EXPECT_NE(u.exit_code, 0) << Describe(u);
  EXPECT_NE(u.err.find("downgrade_from"), std::string::npos) << Describe(u);
  EXPECT_EQ(TenantStatus("acme"), "ACTIVE");
  EXPECT_EQ(Query("SELECT tier FROM matih.tenants WHERE slug = 'acme'"), "professional");
  CliResult show = Cli({"tenants", "show", "acme"});
  ASSERT_EQ(show.exit_code, 0) << Describe(show);
  EXPECT_NE(show.out.find("lives on    shared cluster and servers"), std::string::npos) << show.out;
}

TEST_F(CliJourneyTest, DeleteWithZeroGraceTearsDownAndKeepsTheRow) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddActiveTenant("acme"));
  CliResult d = Cli({"delete", "acme", "--grace", "0s"});
  ASSERT_EQ(d.exit_code, 0) << Describe(d);
  EXPECT_EQ(TenantStatus("acme"), "PENDING_DELETION");
  CliResult r = Cli({"run"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(TenantStatus("acme"), "DELETED");
  EXPECT_FALSE(fs::exists(state_dir_ + "/acme/validate-request"));
  EXPECT_FALSE(fs::exists(state_dir_ + "/acme/activate-tenant"));
}

}  // namespace
}  // namespace matih::testing
