// Deletions that do not go straight through. A tenant whose deletion failed is never provisioned again:
// `retry` resumes the deletion, which removes what is left, and `upgrade` is refused. Before, retry moved it
// to PROVISIONING (or, as it had been ACTIVE, UPGRADING) and the next run made again what the deletion had
// removed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli_fixture.h"

namespace matih::testing {
namespace {

using ::testing::HasSubstr;

class CliFailedDeletionTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    // Step 2's first remove fails permanently: the deletion stops after step 4 was removed.
    catalog_ = WriteCatalog({{2, "{value: ok, fail: permanent, fail_on: remove, fail_times: 1}"}});
    config_ = WriteConfig();
    ASSERT_NO_FATAL_FAILURE(Migrate());
    ASSERT_NO_FATAL_FAILURE(AddActiveTenant("gone-co", "free"));
    ASSERT_EQ(Cli({"delete", "gone-co", "--grace", "0s"}).exit_code, 0);
    CliResult run = Cli({"run"});
    ASSERT_EQ(run.exit_code, 3) << Describe(run);
    ASSERT_EQ(TenantStatus("gone-co"), "FAILED");
  }

  bool Exists(const char* step) const {
    return std::filesystem::exists(std::filesystem::path(state_dir_) / "gone-co" / step);
  }
};

TEST_F(CliFailedDeletionTest, RetryResumesTheDeletionAndNeverProvisionsAgain) {
  EXPECT_EQ(Query("SELECT failed_from FROM matih.tenants WHERE slug = 'gone-co'"), "DEPROVISIONING");
  ASSERT_FALSE(Exists("activate-tenant"));  // step 4, removed before step 2 failed
  CliResult retry = Cli({"retry", "gone-co"});
  ASSERT_EQ(retry.exit_code, 0) << Describe(retry);
  EXPECT_THAT(retry.out, HasSubstr("DEPROVISIONING again; the next run resumes its deletion"));
  CliResult run = Cli({"run"});
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(TenantStatus("gone-co"), "DELETED");
  EXPECT_FALSE(Exists("activate-tenant")) << "the retry made step 4's object again";
  EXPECT_FALSE(Exists("validate-request"));
  EXPECT_FALSE(Exists("create-tenant-record"));
  EXPECT_EQ(Query("SELECT count(*) FROM matih.audit_events e JOIN matih.tenants t ON t.id = e.tenant_id "
                  "WHERE t.slug = 'gone-co' AND e.event = 'step.applied' AND e.seq > (SELECT max(seq) FROM "
                  "matih.audit_events e2 WHERE e2.tenant_id = t.id AND e2.event = 'operator.retry')"),
            "0");
  EXPECT_EQ(Cli({"audit", "verify"}).exit_code, 0);
}

TEST_F(CliFailedDeletionTest, UpgradeAndRetryFromAreRefusedWithNothingChanged) {
  const std::string before = Snapshot();
  CliResult upgrade = Cli({"upgrade", "gone-co", "--tier", "professional"});
  EXPECT_EQ(upgrade.exit_code, 2) << Describe(upgrade);
  EXPECT_THAT(upgrade.err, HasSubstr("failed while it was being deleted; retry resumes the deletion"));
  CliResult from = Cli({"retry", "gone-co", "--from", "2"});
  EXPECT_EQ(from.exit_code, 2) << Describe(from);
  EXPECT_THAT(from.err, HasSubstr("retry resumes the deletion"));
  EXPECT_EQ(Snapshot(), before);
}

// A tenant that was rolled back has nothing left to remove: its deletion moves PENDING_DELETION ->
// DEPROVISIONING -> DELETED within one flush, and the database must see both moves (it used to
// see PENDING_DELETION -> DELETED and refuse the run). Found by the secrets scan of issue 16.
class CliDeleteRolledBackTest : public CliTest {};

TEST_F(CliDeleteRolledBackTest, ARolledBackTenantIsDeletedInOneRun) {
  catalog_ = WriteCatalog({{2, "{value: ok, fail: permanent}"}});
  config_ = WriteConfig("\n[run]\nfailure_policy = rollback\n");
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("back-co"));
  EXPECT_EQ(Cli({"run"}).exit_code, 3);
  ASSERT_EQ(TenantStatus("back-co"), "ROLLED_BACK");
  ASSERT_EQ(Cli({"delete", "back-co", "--grace", "0s"}).exit_code, 0);
  CliResult run = Cli({"run"});
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(TenantStatus("back-co"), "DELETED");
  // Every move after the rollback is in the trail, one by one.
  EXPECT_EQ(Query("SELECT string_agg(details->>'to', ',' ORDER BY seq) FROM matih.audit_events e JOIN "
                  "matih.tenants t ON t.id = e.tenant_id WHERE t.slug = 'back-co' AND e.event = 'transition' "
                  "AND e.seq > (SELECT max(seq) FROM matih.audit_events e2 WHERE e2.tenant_id = t.id AND "
                  "e2.details->>'to' = 'ROLLED_BACK')"),
            "PENDING_DELETION,DEPROVISIONING,DELETED");
  EXPECT_EQ(Cli({"audit", "verify"}).exit_code, 0);
}

}  // namespace
}  // namespace matih::testing
