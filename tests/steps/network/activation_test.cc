// Step 56 (activate-tenant, kind network.activation) against the real stack: it passes only when
// the tenant's names resolve at PowerDNS, its HTTPS ingress verifies against the CA and every
// service of its spec has a registered endpoint; each broken piece fails it as transient with a
// message naming the check, and observe turns DRIFTED.
#include <gtest/gtest.h>

#include "steps/network/network_test_support.h"

namespace matih::testing {
namespace {

const std::vector<std::string> kSteps = {"deploy-ingress-controller", "create-dns-zone",
                                         "create-tenant-ingress"};
const std::string kActivate = "activate-tenant";

class Activation : public ::testing::Test {
 protected:
  void SetUp() override {
    UseStackNetworkSettings(harness_);
    tenant_ = StepHarness::MakeTenant("free", "act");  // services: query-engine, bi-service
    for (const auto& step : kSteps) {
      auto answer = harness_.Apply(step, tenant_);
      ASSERT_EQ(MATIH_STATUS_OK, answer.status) << step << ": " << answer.message;
    }
    // What steps 26 and 31 record once they deploy their services.
    tenant_.outputs["query-engine"]["endpoint"] =
        "http://query-engine.tenant-" + tenant_.view.slug + ".svc:8080";
    tenant_.outputs["bi-service"]["url"] = "https://bi." + tenant_.view.slug + ".tenants.matih.test";
  }
  void TearDown() override {
    UseStackNetworkSettings(harness_);  // a test may have changed them
    for (auto it = kSteps.rbegin(); it != kSteps.rend(); ++it)
      EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(*it, tenant_).status) << *it;
  }
  void ExpectFailsNaming(const std::string& check, const std::string& detail) {
    auto answer = harness_.Apply(kActivate, tenant_);
    EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, answer.status) << answer.message;
    EXPECT_NE(std::string::npos, answer.message.find("check " + check)) << answer.message;
    EXPECT_NE(std::string::npos, answer.message.find(detail)) << answer.message;
  }

  StepHarness harness_;
  TestTenant tenant_;
};

TEST_F(Activation, PassesWhenNamesHttpsAndEndpointsAreAllThere) {
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kActivate, tenant_).status);
  auto answer = harness_.Apply(kActivate, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_EQ("dns,https,endpoint query-engine,endpoint bi-service", tenant_.outputs[kActivate]["checks"]);
  const std::string first = tenant_.outputs[kActivate]["activated_at"];
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kActivate, tenant_).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kActivate, tenant_).status);
  EXPECT_EQ(first, tenant_.outputs[kActivate]["activated_at"]) << "the first activation time is kept";
}

TEST_F(Activation, MissingEndpointFailsNamingTheService) {
  tenant_.outputs.erase("bi-service");
  ExpectFailsNaming("endpoint", "bi-service");
}

TEST_F(Activation, RegisteredEndpointsOfStep39AreAccepted) {
  tenant_.outputs.erase("bi-service");
  tenant_.outputs.erase("query-engine");
  tenant_.outputs["register-service-endpoints"]["endpoints"] =
      R"({"query-engine": "http://qe:8080", "bi-service": "http://bi:8088"})";
  auto answer = harness_.Apply(kActivate, tenant_);
  EXPECT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  tenant_.outputs["register-service-endpoints"]["endpoints"] = R"({"query-engine": "not a url"})";
  ExpectFailsNaming("endpoint", "query-engine");
}

TEST_F(Activation, UnresolvableNamesFailTheDnsCheck) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove("create-dns-zone", tenant_).status);
  ExpectFailsNaming("dns", tenant_.view.slug);
}

TEST_F(Activation, MissingTlsFailsTheHttpsCheckAndObserveDrifts) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kActivate, tenant_).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove("create-tenant-ingress", tenant_).status);
  ExpectFailsNaming("https", "api." + tenant_.view.slug);
  auto observed = harness_.Observe(kActivate, tenant_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("check https")) << observed.message;
}

TEST_F(Activation, CertificateFromAnotherCaFailsTheHttpsCheck) {
  // A client that trusts only the system CAs must not accept the stack CA's certificate.
  harness_.settings().erase("network.ca_cert_file");
  ExpectFailsNaming("https", "certificate");
}

TEST_F(Activation, BadParamsAreRefusedNamingTheParam) {
  const auto& kind = harness_.KindOf(kActivate);
  EXPECT_TRUE(kind.ValidateParams(harness_.Step(kActivate).params_json).ok());
  auto status = kind.ValidateParams(R"({"parent_zone": "t.example.com", "names": ["a b"]})");
  EXPECT_NE(std::string::npos, status.message().find("a b")) << status.message();
  status = kind.ValidateParams(R"({"names": ["api"]})");
  EXPECT_NE(std::string::npos, status.message().find("parent_zone")) << status.message();
}

}  // namespace
}  // namespace matih::testing
