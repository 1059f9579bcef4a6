// Step 47 (create-billing-account): the tenant's billing account, plan and subscription rows in
// the control-plane schema, from its tier. A second apply writes nothing, a retry never makes a
// second account, hand changes are DRIFTED and repaired, remove leaves nothing of the tenant.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "steps/step_harness.h"

namespace matih::testing {
namespace {

constexpr const char* kStep = "create-billing-account";

class BillingAccount : public ::testing::Test {
 protected:
  void SetUp() override {
    harness_.settings()["billing.database_url"] = harness_.database().url();
    tenant_ = StepHarness::MakeTenant("starter");
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-tenant-record", tenant_).status);
  }
  std::string Query1(const std::string& sql) {
    pqxx::connection c(harness_.database().url());
    pqxx::nontransaction tx(c);
    auto f = tx.exec1(sql)[0];
    return f.is_null() ? "NULL" : f.as<std::string>();
  }
  // The tenant's billing rows and their plan, each with its xmin (changes whenever a row is written).
  std::string Snapshot(const TestTenant& t) {
    pqxx::connection c(harness_.database().url());
    pqxx::nontransaction tx(c);
    std::string out;
    for (const auto& row :
         tx.exec("SELECT a.xmin, a.*, s.xmin, s.*, p.xmin, p.* FROM control_plane.billing_accounts a "
                 "JOIN control_plane.billing_subscriptions s ON s.account_id = a.id "
                 "JOIN control_plane.billing_plans p ON p.code = s.plan_code WHERE a.tenant_id = " +
                 tx.quote(t.view.id))) {
      for (const auto& f : row) out += (f.is_null() ? "NULL" : f.c_str()) + std::string("|");
      out += "\n";
    }
    return out;
  }

  StepHarness harness_;
  TestTenant tenant_;
};

TEST_F(BillingAccount, AbsentThenAppliedFromTheTierThenInSync) {
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  auto applied = harness_.Apply(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, applied.status) << applied.message;
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
  const std::string id = tenant_.view.id;
  EXPECT_EQ("acct_" + id, tenant_.outputs[kStep]["billing_account_ref"]);
  EXPECT_EQ("starter-monthly", tenant_.outputs[kStep]["billing_plan"]);
  EXPECT_EQ("acct_" + id + "|admin@" + tenant_.view.slug + ".example.com|USD|active",
            Query1("SELECT concat_ws('|', external_ref, billing_email, currency, status) "
                   "FROM control_plane.billing_accounts WHERE tenant_id = '" +
                   id + "'"));
  EXPECT_EQ("sub_" + id + "|starter-monthly|active",
            Query1("SELECT concat_ws('|', s.external_ref, s.plan_code, s.status) FROM "
                   "control_plane.billing_subscriptions s JOIN control_plane.billing_accounts a ON a.id = "
                   "s.account_id WHERE a.tenant_id = '" +
                   id + "'"));
  EXPECT_EQ("starter|4900|USD|month",
            Query1("SELECT concat_ws('|', tier, monthly_price_cents, currency, billing_interval) FROM "
                   "control_plane.billing_plans WHERE code = 'starter-monthly'"));
}

TEST_F(BillingAccount, ApplyingAgainWritesNothingAndNeverMakesASecondAccount) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  const std::string before = Snapshot(tenant_);
  ASSERT_FALSE(before.empty());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(before, Snapshot(tenant_));
  EXPECT_EQ("1", Query1("SELECT count(*) FROM control_plane.billing_accounts"));
  EXPECT_EQ("1", Query1("SELECT count(*) FROM control_plane.billing_subscriptions"));
}

TEST_F(BillingAccount, ExternalReferenceIsUniqueInTheDatabase) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  TestTenant other = StepHarness::MakeTenant("starter", "other");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-tenant-record", other).status);
  EXPECT_THROW(
      harness_.database().Exec(
          "INSERT INTO control_plane.billing_accounts (tenant_id, external_ref, billing_email, currency) "
          "VALUES ('" +
          other.view.id + "', 'acct_" + tenant_.view.id + "', 'x@y.example', 'USD')"),
      std::exception);
}

TEST_F(BillingAccount, BillingRowsChangedByHandAreDriftedAndRepaired) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  harness_.database().Exec("UPDATE control_plane.billing_subscriptions SET status = 'cancelled'");
  harness_.database().Exec(
      "UPDATE control_plane.billing_plans SET monthly_price_cents = 1 WHERE code = 'starter-monthly'");
  harness_.database().Exec("UPDATE control_plane.billing_accounts SET billing_email = 'thief@evil.example'");
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("subscription status: have 'cancelled', want 'active'"))
      << observed.message;
  EXPECT_NE(std::string::npos,
            observed.message.find("plan starter-monthly monthly_price_cents: have '1', want '4900'"))
      << observed.message;
  EXPECT_NE(std::string::npos, observed.message.find("account billing_email: have 'thief@evil.example'"))
      << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ(
      "4900",
      Query1("SELECT monthly_price_cents FROM control_plane.billing_plans WHERE code = 'starter-monthly'"));
  EXPECT_EQ("active", Query1("SELECT status FROM control_plane.billing_subscriptions"));
}

TEST_F(BillingAccount, DeletedSubscriptionIsDriftedAndRecreated) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  harness_.database().Exec("DELETE FROM control_plane.billing_subscriptions");
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_EQ("subscription missing", observed.message);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(BillingAccount, TierChangeMovesTheSubscriptionToTheNewPlan) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  const std::string account = Query1("SELECT id FROM control_plane.billing_accounts");
  tenant_.view.tier = "enterprise";
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos,
            observed.message.find("subscription plan: have 'starter-monthly', want 'enterprise-annual'"))
      << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(account, Query1("SELECT id FROM control_plane.billing_accounts")) << "same account, new plan";
  EXPECT_EQ("enterprise-annual", Query1("SELECT plan_code FROM control_plane.billing_subscriptions"));
  EXPECT_EQ(
      "year",
      Query1("SELECT billing_interval FROM control_plane.billing_plans WHERE code = 'enterprise-annual'"));
}

TEST_F(BillingAccount, TwoTenantsHaveTheirOwnAccounts) {
  TestTenant other = StepHarness::MakeTenant("free", "other");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-tenant-record", other).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, other).status);
  EXPECT_EQ("2", Query1("SELECT count(DISTINCT external_ref) FROM control_plane.billing_accounts"));
  harness_.database().Exec(
      "UPDATE control_plane.billing_accounts SET status = 'suspended' WHERE tenant_id = '" + other.view.id +
      "'");
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, harness_.Observe(kStep, other).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, other).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ("1", Query1("SELECT count(*) FROM control_plane.billing_accounts"));
}

TEST_F(BillingAccount, RemoveLeavesNothingOfTheTenantAndCanBeRepeated) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  EXPECT_EQ("0", Query1("SELECT count(*) FROM control_plane.billing_accounts"));
  EXPECT_EQ("0", Query1("SELECT count(*) FROM control_plane.billing_subscriptions"));
  EXPECT_EQ("1", Query1("SELECT count(*) FROM control_plane.billing_plans")) << "the shared plan stays";
}

TEST_F(BillingAccount, ObserveAndRemoveOnAFreshDatabaseCreateNothing) {
  StepHarness fresh;
  fresh.settings()["billing.database_url"] = fresh.database().url();
  EXPECT_EQ(MATIH_STATUS_ABSENT, fresh.Observe(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, fresh.Remove(kStep, tenant_).status);
  pqxx::connection c(fresh.database().url());
  pqxx::nontransaction tx(c);
  EXPECT_TRUE(tx.exec1("SELECT to_regclass('control_plane.billing_accounts')")[0].is_null());
}

TEST_F(BillingAccount, WithoutTheTenantRecordIsAFailedPrecondition) {
  TestTenant stranger = StepHarness::MakeTenant("free", "stranger");
  auto answer = harness_.Apply(kStep, stranger);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("create-tenant-record must run first")) << answer.message;
}

TEST_F(BillingAccount, BadParamsAreRefusedAtCatalogLoad) {
  const auto& kind = harness_.KindOf(kStep);
  EXPECT_TRUE(kind.ValidateParams(harness_.Step(kStep).params_json).ok());
  for (
      const char* bad : {
          R"({})",
          R"({"plans": {}})",
          R"({"plans": {"gold": {"code": "g", "monthly_price_cents": 1, "currency": "USD", "interval": "month"}}})",
          R"({"plans": {"free": {"code": "Free Plan", "monthly_price_cents": 0, "currency": "USD", "interval": "month"}}})",
          R"({"plans": {"free": {"code": "free", "monthly_price_cents": -1, "currency": "USD", "interval": "month"}}})",
          R"({"plans": {"free": {"code": "free", "monthly_price_cents": 0, "currency": "usd", "interval": "month"}}})",
          R"({"plans": {"free": {"code": "free", "monthly_price_cents": 0, "currency": "USD", "interval": "week"}}})",
          R"({"plans": {"free": {"code": "p", "monthly_price_cents": 0, "currency": "USD", "interval": "month"},
                         "starter": {"code": "p", "monthly_price_cents": 9, "currency": "USD", "interval": "month"}}})",
          R"({"plans": {"free": {"code": "free", "monthly_price_cents": 0, "currency": "USD", "interval": "month", "x": 1}}})",
      }) {
    EXPECT_FALSE(kind.ValidateParams(bad).ok()) << bad;
  }
}

TEST_F(BillingAccount, ConnectionsAreReusedAcrossCalls) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  const std::string sessions =
      "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()";
  const std::string before = Query1(sessions);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
    ASSERT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
  }
  EXPECT_EQ(before, Query1(sessions)) << "no connection was opened or dropped by the later calls";
}

TEST_F(BillingAccount, UnreachableDatabaseIsTransient) {
  harness_.settings()["billing.database_url"] = "postgresql://postgres@127.0.0.1:1/nowhere";
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Observe(kStep, tenant_).status);
}

}  // namespace
}  // namespace matih::testing
