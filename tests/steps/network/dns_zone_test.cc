// Step 41 (create-dns-zone, kind network.dns_zone) on the stack's real PowerDNS: the tenant's zone
// with SOA, NS and host records answered by the DNS server, the delegation in the parent zone
// (seen by AXFR of the parent), nothing written when in sync (serials unchanged), hand changes
// found and repaired, remove takes the delegation with it, tenants isolated, bad params refused,
// an unreachable API is transient.
#include <gtest/gtest.h>

#include "steps/network/network_test_support.h"

namespace matih::testing {
namespace {

const std::string kStep = "create-dns-zone";

class DnsZone : public ::testing::Test {
 protected:
  void SetUp() override {
    UseStackNetworkSettings(harness_);
    tenant_ = StepHarness::MakeTenant("free", "dns");
  }
  void TearDown() override {
    UseStackNetworkSettings(harness_);  // a test may have changed them
    harness_.SetParams(kStep, harness_.Step(kStep).params_json);
    EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
    for (auto& t : others_) EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, t).status);
  }
  std::string Zone(const TestTenant& t) { return t.view.slug + "." + ParentZone(); }
  void ApplyOk(TestTenant& t) {
    auto answer = harness_.Apply(kStep, t);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  }

  StepHarness harness_;
  PowerDnsAdmin pdns_;
  TestTenant tenant_;
  std::vector<TestTenant> others_;
};

TEST_F(DnsZone, ApplyServesEveryRecordAndTheDelegationThenIsInSync) {
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  ApplyOk(tenant_);
  const std::string zone = Zone(tenant_);
  const std::vector<std::string> ns = {"ns1." + ParentZone()};
  for (const std::string host : {"", "api.", "bi.", "anything.", "x.y."})
    EXPECT_EQ(std::vector<std::string>{"127.0.0.1"}, Dig(host + zone, "A")) << host;
  EXPECT_EQ(ns, Dig(zone, "NS"));
  auto soa = Dig(zone, "SOA");
  ASSERT_EQ(1u, soa.size());
  EXPECT_EQ(0u, soa[0].rfind("ns1." + ParentZone() + " hostmaster." + ParentZone() + " ", 0)) << soa[0];
  EXPECT_EQ(ns, DigTransfer(ParentZone(), zone, "NS")) << "the parent delegates the tenant's zone";
  EXPECT_EQ(ns, pdns_.Records(ParentZone(), zone, "NS"));
  EXPECT_EQ(std::vector<std::string>{}, Dig("other-" + zone, "A"));

  auto answer = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, answer.status) << answer.message;
  EXPECT_EQ(zone.substr(0, zone.size() - 1), tenant_.outputs[kStep]["zone"]);
  EXPECT_EQ("127.0.0.1", tenant_.outputs[kStep]["ingress_address"]);
}

TEST_F(DnsZone, SecondApplyWritesNothing) {
  ApplyOk(tenant_);
  const long zone_serial = pdns_.Serial(Zone(tenant_));
  const long parent_serial = pdns_.Serial(ParentZone());
  ASSERT_GT(zone_serial, 0);
  ApplyOk(tenant_);
  EXPECT_EQ(zone_serial, pdns_.Serial(Zone(tenant_)));
  EXPECT_EQ(parent_serial, pdns_.Serial(ParentZone()));
}

TEST_F(DnsZone, DeletedRecordIsDriftedAndRepaired) {
  ApplyOk(tenant_);
  const std::string zone = Zone(tenant_);
  pdns_.SetRecords(zone, "api." + zone, "A", {});
  ASSERT_TRUE(pdns_.Records(zone, "api." + zone, "A").empty());  // DNS still answers it by the wildcard
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("api." + zone)) << observed.message;
  ApplyOk(tenant_);
  EXPECT_EQ(std::vector<std::string>{"127.0.0.1"}, Dig("api." + zone, "A"));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(DnsZone, ChangedAddressAndForeignRecordAreDriftedAndRepaired) {
  ApplyOk(tenant_);
  const std::string zone = Zone(tenant_);
  pdns_.SetRecords(zone, "bi." + zone, "A", {"10.9.9.9"});
  pdns_.SetRecords(zone, "intruder." + zone, "TXT", {"\"hello\""});
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("10.9.9.9")) << observed.message;
  ApplyOk(tenant_);
  EXPECT_EQ(std::vector<std::string>{"127.0.0.1"}, Dig("bi." + zone, "A"));
  EXPECT_TRUE(pdns_.Records(zone, "intruder." + zone, "TXT").empty());
}

TEST_F(DnsZone, DeletedDelegationIsDriftedAndRepaired) {
  ApplyOk(tenant_);
  const std::string zone = Zone(tenant_);
  pdns_.SetRecords(ParentZone(), zone, "NS", {});
  ASSERT_TRUE(DigTransfer(ParentZone(), zone, "NS").empty());
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("parent")) << observed.message;
  ApplyOk(tenant_);
  EXPECT_EQ(std::vector<std::string>{"ns1." + ParentZone()}, DigTransfer(ParentZone(), zone, "NS"));
}

TEST_F(DnsZone, RemoveTakesZoneAndDelegationAndCanBeRepeated) {
  ApplyOk(tenant_);
  const std::string zone = Zone(tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  EXPECT_TRUE(pdns_.Zone(zone).is_null());
  EXPECT_TRUE(pdns_.Records(ParentZone(), zone, "NS").empty());
  EXPECT_TRUE(DigTransfer(ParentZone(), zone, "NS").empty());
  EXPECT_TRUE(Dig("api." + zone, "A").empty());
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
}

TEST_F(DnsZone, TwoTenantsNeverSeeEachOthersRecords) {
  others_.push_back(StepHarness::MakeTenant("free", "dns"));
  TestTenant& other = others_.back();
  ApplyOk(tenant_);
  ApplyOk(other);
  const std::string a = Zone(tenant_), b = Zone(other);
  const auto zone_a = pdns_.Zone(a);
  ASSERT_TRUE(zone_a.is_object());
  for (const auto& set : zone_a["rrsets"])
    EXPECT_EQ(std::string::npos, set["name"].get<std::string>().find(other.view.slug)) << set.dump();
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  EXPECT_EQ(std::vector<std::string>{"127.0.0.1"}, Dig("api." + b, "A"));
  EXPECT_EQ(std::vector<std::string>{"ns1." + ParentZone()}, DigTransfer(ParentZone(), b, "NS"));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, other).status);
  EXPECT_TRUE(Dig("api." + a, "A").empty());
}

TEST_F(DnsZone, BadParamsAreRefusedAtCatalogLoadNamingTheParam) {
  const auto& kind = harness_.KindOf(kStep);
  EXPECT_TRUE(kind.ValidateParams(harness_.Step(kStep).params_json).ok());
  struct Case {
    const char* params;
    const char* names;
  } cases[] = {
      {R"({})", "parent_zone"},
      {R"({"parent_zone": "tenants..matih.test"})", "tenants..matih.test"},
      {R"({"parent_zone": "bad_zone.example.com"})", "bad_zone.example.com"},
      {R"({"parent_zone": "test"})", "top-level"},
      {R"({"parent_zone": "tenants.matih.test.", "ttl": 5})", "ttl"},
      {R"({"parent_zone": "tenants.matih.test.", "records": ["api", "no way"]})", "no way"},
      {R"({"parent_zone": "tenants.matih.test.", "nameservers": []})", "nameservers"},
  };
  for (const auto& c : cases) {
    auto status = kind.ValidateParams(c.params);
    EXPECT_FALSE(status.ok()) << c.params;
    EXPECT_NE(std::string::npos, status.message().find(c.names)) << c.params << ": " << status.message();
  }
}

TEST_F(DnsZone, UnreachableApiIsTransient) {
  harness_.settings()["network.powerdns_api_url"] = "http://127.0.0.1:1";
  auto answer = harness_.Apply(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("127.0.0.1:1")) << answer.message;
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Observe(kStep, tenant_).status);
}

TEST_F(DnsZone, MissingParentZoneIsPermanentAndNamesIt) {
  harness_.SetParams(kStep, R"({"parent_zone": "nowhere.matih.test."})");
  auto answer = harness_.Apply(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("nowhere.matih.test.")) << answer.message;
}

TEST_F(DnsZone, ApiKeyNeverAppearsInMessagesOrOutputs) {
  harness_.settings()["network.powerdns_api_url"] = harness_.settings()["network.powerdns_api_url"] + "/nope";
  auto answer = harness_.Apply(kStep, tenant_);
  EXPECT_NE(MATIH_STATUS_OK, answer.status);
  EXPECT_EQ(std::string::npos, answer.message.find(harness_.settings()["network.powerdns_api_key"]));
}

}  // namespace
}  // namespace matih::testing
