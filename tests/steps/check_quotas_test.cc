// Step 2 (check-quotas, kind tenant.quota): capacity is reserved atomically per pool, repaired
// when a reservation disappears, moved when the tier changes, released by remove, and parallel
// claims against a limit of K reserve exactly K.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <thread>

#include "steps/step_harness.h"

namespace matih::testing {
namespace {

constexpr const char* kStep = "check-quotas";

class CheckQuotas : public ::testing::Test {
 protected:
  long long Count(const std::string& sql) {
    pqxx::connection c(harness_.database().url());
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<long long>();
  }
  long long Reservations(const std::string& tenant_id) {
    return Count("SELECT count(*) FROM control_plane.capacity_reservations WHERE tenant_id = '" + tenant_id +
                 "'");
  }

  StepHarness harness_;
};

TEST_F(CheckQuotas, ReservesOneSlotPerPoolAndIsIdempotent) {
  TestTenant tenant = StepHarness::MakeTenant("free");
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant).status);
  auto applied = harness_.Apply(kStep, tenant);
  ASSERT_EQ(MATIH_STATUS_OK, applied.status) << applied.message;
  EXPECT_EQ("placement:shared,region:eu-west,tier:free", applied.outputs["pools"]);
  EXPECT_EQ(3, Reservations(tenant.view.id));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant).status);
  EXPECT_EQ(3, Reservations(tenant.view.id));
}

TEST_F(CheckQuotas, ObserveAndRemoveOnAFreshDatabaseCreateNothing) {
  TestTenant tenant = StepHarness::MakeTenant("free");
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant).status);
  EXPECT_EQ(0, Count("SELECT count(*) FROM pg_namespace WHERE nspname = 'control_plane'"));
}

TEST_F(CheckQuotas, ObservesAReservationDeletedByHandAndApplyRestoresIt) {
  TestTenant tenant = StepHarness::MakeTenant("starter");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant).status);
  harness_.database().Exec("DELETE FROM control_plane.capacity_reservations WHERE pool = 'region:eu-west'");
  auto observed = harness_.Observe(kStep, tenant);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_EQ("no reservation in pool region:eu-west", observed.message);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant).status);
}

TEST_F(CheckQuotas, TierChangeMovesTheReservationToTheNewPools) {
  TestTenant tenant = StepHarness::MakeTenant("starter");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant).status);
  tenant.view.tier = "professional";
  auto observed = harness_.Observe(kStep, tenant);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("stale reservation in pool placement:shared"));
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant).status);
  EXPECT_EQ(
      1,
      Count("SELECT count(*) FROM control_plane.capacity_reservations WHERE pool = 'placement:dedicated'"));
  EXPECT_EQ(
      0, Count("SELECT count(*) FROM control_plane.capacity_reservations WHERE pool = 'placement:shared'"));
}

TEST_F(CheckQuotas, RemoveReleasesTheCapacityAndCanBeRepeated) {
  harness_.settings()["quota.tier.free.tenants"] = "1";
  TestTenant first = StepHarness::MakeTenant("free");
  TestTenant second = StepHarness::MakeTenant("free");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, first).status);
  auto refused = harness_.Apply(kStep, second);
  EXPECT_EQ(MATIH_STATUS_RESOURCE_EXHAUSTED, refused.status);
  EXPECT_NE(std::string::npos, refused.message.find("pool tier:free holds 1 of 1")) << refused.message;
  EXPECT_EQ(0, Reservations(second.view.id)) << "a refused claim must reserve nothing";
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, first).status);
  EXPECT_EQ(0, Reservations(first.view.id));
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, first).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, first).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, second).status);
}

TEST_F(CheckQuotas, ParallelClaimsAgainstALimitOfKReserveExactlyK) {
  constexpr int kLimit = 5;
  constexpr int kTenants = 24;
  harness_.settings()["quota.region.eu-west.tenants"] = std::to_string(kLimit);
  // Create the schema first, so the threads race on reservations, not on setup.
  TestTenant warmup = StepHarness::MakeTenant("free");
  warmup.view.spec_json = R"({"region": "us-east", "admin_email": "a@b.example.com"})";
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, warmup).status);

  std::vector<TestTenant> tenants;
  for (int i = 0; i < kTenants; ++i)
    tenants.push_back(StepHarness::MakeTenant(i % 2 ? "free" : "enterprise"));
  std::vector<matih_status> results(kTenants);
  std::vector<std::thread> threads;
  for (int i = 0; i < kTenants; ++i)
    threads.emplace_back([&, i] {
      matih_status status;
      do {  // ABORTED (a serialization conflict) is retried, as the runner would
        status = harness_.Apply(kStep, tenants[i]).status;
      } while (status == MATIH_STATUS_ABORTED);
      results[i] = status;
    });
  for (auto& t : threads) t.join();

  int ok = 0, exhausted = 0;
  for (auto r : results) {
    if (r == MATIH_STATUS_OK) ++ok;
    if (r == MATIH_STATUS_RESOURCE_EXHAUSTED) ++exhausted;
  }
  EXPECT_EQ(kLimit, ok);
  EXPECT_EQ(kTenants - kLimit, exhausted);
  EXPECT_EQ(kLimit,
            Count("SELECT count(*) FROM control_plane.capacity_reservations WHERE pool = 'region:eu-west'"));
  // A refused tenant holds nothing in any pool.
  EXPECT_EQ(kLimit * 3 + 3, Count("SELECT count(*) FROM control_plane.capacity_reservations"));
}

}  // namespace
}  // namespace matih::testing
