// Step 39 (register-service-endpoints, kind services.endpoints): one row per deployed service in
// control_plane.service_endpoints, on the stack's real PostgreSQL, following steps 26-38: rows
// appear for applied requested services, go when a service leaves the spec, a second apply writes
// nothing, hand changes are DRIFTED and repaired, remove deletes and can be repeated.
#include <gtest/gtest.h>

#include <chrono>
#include <pqxx/pqxx>
#include <thread>

#include "steps/services/services_test_support.h"

namespace matih::testing {
namespace {

constexpr const char* kStep = "register-service-endpoints";

class ServiceEndpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    ConfigureServices(harness_);
    tenant_ = StepHarness::MakeTenant("starter");  // requests query-engine and bi-service
  }
  void Apply(const std::string& step, TestTenant& t) {
    auto answer = harness_.Apply(step, t);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << step << ": " << answer.message;
  }
  // Tenant record, both requested services, then step 39.
  void ApplyAll(TestTenant& t) {
    for (const std::string step : {"create-tenant-record", "query-engine", "bi-service", kStep})
      Apply(step, t);
  }
  // "service url xmin" per row: xmin changes whenever a row is written.
  std::string Rows(const TestTenant& t, bool with_xmin = false) {
    pqxx::connection c(harness_.database().url());
    pqxx::nontransaction tx(c);
    std::string out;
    for (const auto& row :
         tx.exec("SELECT service, url, xmin FROM control_plane.service_endpoints WHERE tenant_id = " +
                 tx.quote(t.view.id) + " ORDER BY service"))
      out += row[0].as<std::string>() + " " + row[1].as<std::string>() +
             (with_xmin ? " " + row[2].as<std::string>() : "") + "\n";
    return out;
  }
  std::string Url(const std::string& service, const TestTenant& t) {
    return "https://" + service + "." + t.view.slug + "." + kParentZone;
  }

  StepHarness harness_;
  TestTenant tenant_;
};

TEST_F(ServiceEndpoints, OneRowPerDeployedServiceThenInSyncAndASecondApplyWritesNothing) {
  for (const std::string step : {"create-tenant-record", "query-engine", "bi-service"}) Apply(step, tenant_);
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  auto answer = harness_.Apply(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_EQ("bi-service,query-engine", answer.outputs["services"]);
  EXPECT_EQ("2", answer.outputs["count"]);
  EXPECT_EQ(
      "bi-service " + Url("bi-service", tenant_) + "\nquery-engine " + Url("query-engine", tenant_) + "\n",
      Rows(tenant_));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
  const std::string before = Rows(tenant_, true);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(before, Rows(tenant_, true)) << "a second apply must not write";
}

TEST_F(ServiceEndpoints, AServiceWhoseStepHasNotDeployedItHasNoRow) {
  for (const std::string step : {"create-tenant-record", "query-engine", kStep}) Apply(step, tenant_);
  EXPECT_EQ("query-engine " + Url("query-engine", tenant_) + "\n", Rows(tenant_));
  Apply("bi-service", tenant_);
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("+bi-service " + Url("bi-service", tenant_)))
      << observed.message;
  Apply(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(ServiceEndpoints, ServiceLeavingTheSpecLosesItsRowWithItsRelease) {
  ApplyAll(tenant_);
  RequestServices(tenant_, {"query-engine"});
  Apply("bi-service", tenant_);  // removes the release: deployed=false
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("-bi-service (not deployed)")) << observed.message;
  Apply(kStep, tenant_);
  EXPECT_EQ("query-engine " + Url("query-engine", tenant_) + "\n", Rows(tenant_));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(ServiceEndpoints, HandChangedOrAddedRowsAreDriftedAndRepaired) {
  ApplyAll(tenant_);
  harness_.database().Exec(
      "UPDATE control_plane.service_endpoints SET url = 'https://evil.example.com' "
      "WHERE service = 'bi-service'");
  harness_.database().Exec("INSERT INTO control_plane.service_endpoints (tenant_id, service, url) VALUES ('" +
                           tenant_.view.id + "', 'ml-service', 'https://ml.example.com')");
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("bi-service: have 'https://evil.example.com'"))
      << observed.message;
  EXPECT_NE(std::string::npos, observed.message.find("-ml-service")) << observed.message;
  Apply(kStep, tenant_);
  EXPECT_EQ(
      "bi-service " + Url("bi-service", tenant_) + "\nquery-engine " + Url("query-engine", tenant_) + "\n",
      Rows(tenant_));
}

TEST_F(ServiceEndpoints, TwoTenantsAreIsolated) {
  TestTenant other = StepHarness::MakeTenant("free", "other");
  RequestServices(other, {"query-engine"});
  ApplyAll(tenant_);
  for (const std::string step : {"create-tenant-record", "query-engine", kStep}) Apply(step, other);
  EXPECT_EQ("query-engine " + Url("query-engine", other) + "\n", Rows(other));
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  EXPECT_EQ("", Rows(tenant_));
  EXPECT_EQ("query-engine " + Url("query-engine", other) + "\n", Rows(other));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, other).status);
}

TEST_F(ServiceEndpoints, RemoveDeletesTheRowsAndCanBeRepeated) {
  ApplyAll(tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  EXPECT_EQ("", Rows(tenant_));
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
}

TEST_F(ServiceEndpoints, ObserveAndRemoveOnAFreshDatabaseCreateNothing) {
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status)
      << "nothing deployed, nothing to list";
  tenant_.outputs["query-engine"]["deployed"] = "true";
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  pqxx::connection c(harness_.database().url());
  pqxx::nontransaction tx(c);
  EXPECT_TRUE(tx.exec1("SELECT to_regclass('control_plane.service_endpoints')")[0].is_null());
}

TEST_F(ServiceEndpoints, NoTenantRecordIsAPermanentErrorNamingStep3) {
  Apply("query-engine", tenant_);
  auto answer = harness_.Apply(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("create-tenant-record")) << answer.message;
}

TEST_F(ServiceEndpoints, TableBelongsToTheControlPlaneRole) {
  ApplyAll(tenant_);
  pqxx::connection c(harness_.database().url());
  pqxx::nontransaction tx(c);
  EXPECT_EQ("matih_control_plane",
            tx.exec1("SELECT tableowner FROM pg_tables WHERE schemaname = 'control_plane' AND "
                     "tablename = 'service_endpoints'")[0]
                .as<std::string>());
}

TEST_F(ServiceEndpoints, BadParentZoneOrParamsAreRefused) {
  Apply("create-tenant-record", tenant_);
  Apply("query-engine", tenant_);
  harness_.settings()["services.parent_zone"] = "not a zone";
  auto answer = harness_.Apply(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("services.parent_zone")) << answer.message;
  auto status = harness_.KindOf(kStep).ValidateParams(R"({"zone": "x"})");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(std::string::npos, status.message().find("'zone'")) << status.message();
  EXPECT_TRUE(harness_.KindOf(kStep).ValidateParams(harness_.Step(kStep).params_json).ok());
}

// Connections to the step's database other than this test's own.
int OtherBackends(StepHarness& harness) {
  pqxx::connection c(harness.database().url());
  pqxx::nontransaction tx(c);
  return tx
      .exec1(
          "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> "
          "pg_backend_pid()")[0]
      .as<int>();
}

// The backend of a connection just closed (this test's own probes) leaves pg_stat_activity a
// moment later, sooner or later depending on the machine's load: count once two reads agree.
int SettledBackends(StepHarness& harness) {
  int last = OtherBackends(harness);
  for (int i = 0; i < 40; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const int now = OtherBackends(harness);
    if (now == last) return now;
    last = now;
  }
  return last;
}

TEST_F(ServiceEndpoints, OneConnectionIsKeptAcrossCallsAndReplacedWhenTheServerDropsIt) {
  for (const std::string step : {"create-tenant-record", "query-engine"}) Apply(step, tenant_);
  const int before = SettledBackends(harness_);
  Apply(kStep, tenant_);
  const int kept = SettledBackends(harness_);
  EXPECT_EQ(before + 1, kept) << "step 39 keeps its connection";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
  Apply(kStep, tenant_);
  EXPECT_EQ(kept, SettledBackends(harness_)) << "and reuses it instead of connecting per call";

  harness_.database().Exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> "
      "pg_backend_pid()");
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
}

TEST_F(ServiceEndpoints, UnreachableDatabaseIsTransient) {
  tenant_.outputs["query-engine"]["deployed"] = "true";
  harness_.settings()["controlplane.database_url"] =
      "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2";
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Observe(kStep, tenant_).status);
}

}  // namespace
}  // namespace matih::testing
