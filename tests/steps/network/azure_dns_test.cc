// Step 41 (create-dns-zone) on its production backend, Azure DNS, against tests/fakes'
// FakeAzureDnsServer (Azure cannot be reached from here): the zone with Azure's name servers,
// host records, the delegation "<slug>" in the parent zone listing those name servers; in sync
// means no write; hand changes repaired; remove takes delegation and zone; errors classified.
#include <gtest/gtest.h>

#include <algorithm>

#include "fakes/fake_azure_dns_server.h"
#include "steps/network/network_test_support.h"

namespace matih::testing {
namespace {

const std::string kStep = "create-dns-zone";
const std::string kGroup = "rg-tenants";
const std::string kParent = "tenants.example.com";

class AzureDns : public ::testing::Test {
 protected:
  void SetUp() override {
    azure_.RequireBearerToken("test-token");
    azure_.AddZone(kGroup, kParent);
    auto& s = harness_.settings();
    s["network.dns_backend"] = "azure";
    s["network.azure_dns_url"] = azure_.url();
    s["network.azure_subscription_id"] = "00000000-1111-2222-3333-444444444444";
    s["network.azure_resource_group"] = kGroup;
    s["network.azure_access_token"] = "test-token";
    s["network.ingress_address"] = "203.0.113.7";
    s["network.dns_verify"] = "false";  // the fake serves no DNS
    harness_.SetParams(kStep, R"({"parent_zone": "tenants.example.com"})");
    tenant_ = StepHarness::MakeTenant("free", "az");
  }
  std::string Zone() { return tenant_.view.slug + "." + kParent; }
  size_t Writes() {
    auto r = azure_.requests();
    return std::count_if(r.begin(), r.end(), [](const std::string& s) { return s.rfind("GET ", 0) != 0; });
  }
  void ApplyOk() {
    auto answer = harness_.Apply(kStep, tenant_);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  }

  FakeAzureDnsServer azure_;
  StepHarness harness_;
  TestTenant tenant_;
};

TEST_F(AzureDns, ApplyCreatesZoneRecordsAndDelegationToAzuresNameServers) {
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  ApplyOk();
  ASSERT_TRUE(azure_.HasZone(kGroup, Zone()));
  for (const std::string name : {"@", "*", "api", "bi"}) {
    auto set = azure_.RecordSet(kGroup, Zone(), "A", name);
    ASSERT_TRUE(set) << name;
    EXPECT_EQ("203.0.113.7", (*set)["ARecords"][0]["ipv4Address"]) << name;
    EXPECT_EQ(300, (*set)["TTL"]) << name;
  }
  auto delegation = azure_.RecordSet(kGroup, kParent, "NS", tenant_.view.slug);
  ASSERT_TRUE(delegation);
  std::vector<std::string> delegated;
  for (const auto& r : (*delegation)["NSRecords"]) delegated.push_back(r["nsdname"]);
  auto assigned = azure_.NameServers(kGroup, Zone());
  std::sort(assigned.begin(), assigned.end());
  EXPECT_EQ(assigned, delegated);
  EXPECT_EQ(4u, delegated.size());
  EXPECT_EQ(Zone(), tenant_.outputs[kStep]["zone"]);
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
}

TEST_F(AzureDns, SecondApplyOnlyReads) {
  ApplyOk();
  const size_t writes = Writes();
  ApplyOk();
  EXPECT_EQ(writes, Writes());
}

TEST_F(AzureDns, HandChangesAreDriftedAndRepaired) {
  ApplyOk();
  azure_.DeleteRecordSet(kGroup, Zone(), "A", "api");
  azure_.SetRecordSet(kGroup, Zone(), "TXT", "intruder", {{"TTL", 60}, {"TXTRecords", {{{"value", {"x"}}}}}});
  azure_.DeleteRecordSet(kGroup, kParent, "NS", tenant_.view.slug);
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("api." + Zone())) << observed.message;
  ApplyOk();
  EXPECT_TRUE(azure_.RecordSet(kGroup, Zone(), "A", "api"));
  EXPECT_FALSE(azure_.RecordSet(kGroup, Zone(), "TXT", "intruder"));
  EXPECT_TRUE(azure_.RecordSet(kGroup, kParent, "NS", tenant_.view.slug));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(AzureDns, RemoveTakesDelegationAndZoneAndCanBeRepeated) {
  ApplyOk();
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  EXPECT_FALSE(azure_.HasZone(kGroup, Zone()));
  EXPECT_FALSE(azure_.RecordSet(kGroup, kParent, "NS", tenant_.view.slug));
  auto requests = azure_.requests();
  EXPECT_NE(requests.end(),
            std::find_if(requests.begin(), requests.end(),
                         [](const std::string& r) { return r.rfind("GET /operations/", 0) == 0; }))
      << "the asynchronous deletion is followed";
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
}

TEST_F(AzureDns, TwoTenantsGetTheirOwnZonesAndDelegations) {
  TestTenant other = StepHarness::MakeTenant("free", "az");
  ApplyOk();
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, other).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  EXPECT_TRUE(azure_.HasZone(kGroup, other.view.slug + "." + kParent));
  EXPECT_TRUE(azure_.RecordSet(kGroup, kParent, "NS", other.view.slug));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, other).status);
}

TEST_F(AzureDns, ServerErrorsAreTransientAndABadTokenIsPermanent) {
  azure_.FailNext(503);
  auto answer = harness_.Apply(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, answer.status) << answer.message;
  harness_.settings()["network.azure_access_token"] = "wrong";
  answer = harness_.Apply(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("network.azure_access_token")) << answer.message;
  EXPECT_EQ(std::string::npos, answer.message.find("wrong")) << "the token is never echoed";
}

TEST_F(AzureDns, MissingParentZoneIsPermanentAndNamesIt) {
  harness_.SetParams(kStep, R"({"parent_zone": "nowhere.example.com"})");
  auto answer = harness_.Apply(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("nowhere.example.com")) << answer.message;
  EXPECT_FALSE(azure_.HasZone(kGroup, tenant_.view.slug + ".nowhere.example.com"));
}

TEST_F(AzureDns, UnknownBackendIsRefusedNamingTheSetting) {
  harness_.settings()["network.dns_backend"] = "route53";
  auto answer = harness_.Apply(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_INVALID_ARGUMENT, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("network.dns_backend")) << answer.message;
}

}  // namespace
}  // namespace matih::testing
