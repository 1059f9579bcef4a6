// A failed upgrade never tears down a tenant that was working: it stays FAILED with its objects in
// place, `retry` resumes the upgrade (never a rollback, whatever run.failure_policy says), and the
// tenant can go back to its old tier. A tenant that never became ACTIVE is retried as before.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "cli_fixture.h"

namespace matih::testing {
namespace {

using ::testing::HasSubstr;

class CliFailedUpgradeTest : public CliTest {
 protected:
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  void SetUp() override {
    CliTest::SetUp();
    // Step 3 (phase 7, dedicated tiers only) fails permanently: a free tenant is ACTIVE, and its
    // upgrade to professional fails there.
    catalog_ = WriteCatalog({{3, "{value: ok, fail: permanent}"}});
    config_ = WriteConfig();
    ASSERT_NO_FATAL_FAILURE(Migrate());
    ASSERT_NO_FATAL_FAILURE(AddActiveTenant("up-co", "free"));
  }

  // The free tier's objects of the tenant (steps 1, 2 and 4) are all still there.
  void ExpectStillProvisioned() {
    for (const char* step : {"validate-request", "create-tenant-record", "activate-tenant"})
      EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(state_dir_) / "up-co" / step)) << step;
  }
};

TEST_F(CliFailedUpgradeTest, RetryResumesTheUpgradeAndNeverRollsBack) {
  ASSERT_EQ(Cli({"upgrade", "up-co", "--tier", "professional"}).exit_code, 0);
  CliResult run = Cli({"run"});
  EXPECT_EQ(run.exit_code, 3) << Describe(run);
  ASSERT_EQ(TenantStatus("up-co"), "FAILED");
  ExpectStillProvisioned();

  CliResult retry = Cli({"retry", "up-co"});
  ASSERT_EQ(retry.exit_code, 0) << Describe(retry);
  EXPECT_THAT(retry.out, HasSubstr("UPGRADING again")) << Describe(retry);
  EXPECT_EQ(TenantStatus("up-co"), "UPGRADING");
  run = Cli({"run"});  // fails again at step 3: parked FAILED, not rolled back
  EXPECT_EQ(run.exit_code, 3) << Describe(run);
  EXPECT_EQ(TenantStatus("up-co"), "FAILED");
  ExpectStillProvisioned();
  EXPECT_EQ(Query("SELECT count(*) FROM matih.audit_events e JOIN matih.tenants t ON t.id = e.tenant_id "
                  "WHERE t.slug = 'up-co' AND e.event = 'step.removed'"),
            "0");

  // --from is for provisionings; an upgrade observes every step.
  CliResult from = Cli({"retry", "up-co", "--from", "2"});
  EXPECT_EQ(from.exit_code, 2) << Describe(from);
  EXPECT_THAT(from.err, HasSubstr("failed in an upgrade")) << Describe(from);
}

TEST_F(CliFailedUpgradeTest, AFailedUpgradeCanGoBackToItsOldTier) {
  // Going back from a dedicated tier to a shared one needs the catalog's consent, as any downgrade.
  std::string catalog = ReadFile(catalog_);
  const std::string free_flow = "  free:         {placement: shared,    phases: [0, 1, 8]}";
  ASSERT_NE(catalog.find(free_flow), std::string::npos) << catalog;
  catalog.replace(catalog.find(free_flow), free_flow.size(),
                  "  free:         {placement: shared, phases: [0, 1, 8], downgrade_from: [professional]}");
  catalog_ = WriteFile("catalog-downgrade.yaml", catalog);
  config_ = WriteConfig("", "downgrade.conf");
  ASSERT_EQ(Cli({"upgrade", "up-co", "--tier", "professional"}).exit_code, 0);
  ASSERT_EQ(Cli({"run"}).exit_code, 3);
  ASSERT_EQ(TenantStatus("up-co"), "FAILED");

  CliResult back = Cli({"upgrade", "up-co", "--tier", "free"});
  ASSERT_EQ(back.exit_code, 0) << Describe(back);
  EXPECT_EQ(TenantStatus("up-co"), "UPGRADING");
  CliResult run = Cli({"run"});
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(TenantStatus("up-co"), "ACTIVE");
  EXPECT_EQ(Query("SELECT tier FROM matih.tenants WHERE slug = 'up-co'"), "free");
  ExpectStillProvisioned();
}

TEST_F(CliFailedUpgradeTest, ATenantThatNeverBecameActiveIsRetriedAsAProvisioningAndCannotChangeTier) {
  config_ = WriteConfig("\n[run]\nfailure_policy = park\n", "park.conf");
  ASSERT_NO_FATAL_FAILURE(AddTenant("new-co", "professional"));
  ASSERT_EQ(Cli({"run", "--tenant", "new-co"}).exit_code, 3);
  ASSERT_EQ(TenantStatus("new-co"), "FAILED");
  CliResult up = Cli({"upgrade", "new-co", "--tier", "free"});
  EXPECT_EQ(up.exit_code, 2) << Describe(up);
  EXPECT_THAT(up.err, HasSubstr("never provisioned")) << Describe(up);
  CliResult retry = Cli({"retry", "new-co"});
  ASSERT_EQ(retry.exit_code, 0) << Describe(retry);
  EXPECT_EQ(TenantStatus("new-co"), "PROVISIONING");
}

}  // namespace
}  // namespace matih::testing
