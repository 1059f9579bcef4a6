// The audit trail: hash chains that find a changed or deleted row.
#include <gtest/gtest.h>

#include <cstdlib>

#include "runner/runner_fixture.h"

namespace matih::testing {
namespace {

class AuditTest : public RunnerFixture {
 protected:
  std::vector<AuditProblem> Verify(std::optional<std::string> slug = std::nullopt) {
    auto problems = AuditLog::Verify(*database_, slug);
    EXPECT_TRUE(problems.ok()) << problems.status().ToString();
    return problems.ok() ? *problems : std::vector<AuditProblem>{};
  }
  // What a superuser can do behind the append-only trigger.
  void Tamper(const std::string& sql) { Sql("SET session_replication_role = replica; " + sql); }
};

TEST_F(AuditTest, EveryEventOfARunIsChainedAndVerifies) {
  Add("acme");
  Add("other");
  RunOk();
  EXPECT_TRUE(Verify().empty());
  auto rows = Audit("acme");
  ASSERT_GE(rows.size(), 10u);
  EXPECT_EQ(rows.front().event.event, "operator.add");
  EXPECT_EQ(rows[1].event.event, "tenant.claimed");
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].seq, static_cast<int64_t>(i + 1));
  bool has_plugin = false;
  for (const auto& r : rows)
    has_plugin |= r.event.plugin == "matih-test-steps" && r.event.plugin_version == "0.1.0";
  EXPECT_TRUE(has_plugin);
  EXPECT_FALSE(rows.back().run_id.empty());
}

TEST_F(AuditTest, TheChainVerifiesWhateverDateStyleTheEnvironmentAsksFor) {
  Add("acme");
  RunOk();
  // libpq applies PGDATESTYLE to every new session: the hashed text must not depend on it.
  ::setenv("PGDATESTYLE", "SQL, DMY", 1);
  auto problems = Verify();
  ::unsetenv("PGDATESTYLE");
  EXPECT_TRUE(problems.empty()) << problems.front().what;
}

TEST_F(AuditTest, TheTableRefusesUpdateAndDelete) {
  Add("acme");
  EXPECT_THROW(Sql("UPDATE matih.audit_events SET event = 'x'"), std::exception);
  EXPECT_THROW(Sql("DELETE FROM matih.audit_events"), std::exception);
  EXPECT_THROW(Sql("TRUNCATE matih.audit_events"), std::exception);
}

TEST_F(AuditTest, VerifyFindsARowChangedBySuperuser) {
  Add("acme");
  RunOk();
  Tamper(
      "UPDATE matih.audit_events SET details = '{\"result\": \"forged\"}' "
      "WHERE seq = 4 AND tenant_id = (SELECT id FROM matih.tenants WHERE slug = 'acme')");
  auto problems = Verify();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].slug, "acme");
  EXPECT_EQ(problems[0].seq, 4);
  EXPECT_NE(problems[0].what.find("changed"), std::string::npos) << problems[0].what;
}

TEST_F(AuditTest, VerifyFindsADeletedRowInTheMiddle) {
  Add("acme");
  RunOk();
  Tamper("DELETE FROM matih.audit_events WHERE seq = 3");
  auto problems = Verify("acme");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].seq, 3);
  EXPECT_NE(problems[0].what.find("missing"), std::string::npos) << problems[0].what;
}

TEST_F(AuditTest, VerifyFindsADeletedLastRow) {
  Add("acme");
  RunOk();
  Tamper("DELETE FROM matih.audit_events WHERE seq = (SELECT max(seq) FROM matih.audit_events)");
  auto problems = Verify("acme");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].what.find("ends early"), std::string::npos) << problems[0].what;
}

TEST_F(AuditTest, SecretValuesNeverReachTheAuditTrail) {
  Add("acme");
  RunOk();
  ASSERT_TRUE(secrets_->Put(Tenant("acme").id, "api-key", "mtk_SuperSecretValue123").ok());
  RunOptions drift;
  drift.drift_interval = Millis(0);
  RunOk(drift);
  EXPECT_EQ(Snapshot().find("SuperSecretValue123"), std::string::npos);
}

}  // namespace
}  // namespace matih::testing
