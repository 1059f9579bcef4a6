// Step 1 (validate-request, kind tenant.validate): every bad request is refused with its own
// message and creates nothing; a good one is recorded and observed as in sync until it changes.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <set>

#include "steps/step_harness.h"

namespace matih::testing {
namespace {

constexpr const char* kStep = "validate-request";

struct BadRequest {
  const char* name;
  std::function<void(TestTenant&, nlohmann::json&)> mutate;
  const char* expected;  // a part of the message that names this problem
};

std::vector<BadRequest> BadRequests() {
  auto slug = [](const char* s) { return [s](TestTenant& t, nlohmann::json&) { t.view.slug = s; }; };
  auto field = [](const char* f, nlohmann::json v) {
    return [f, v](TestTenant&, nlohmann::json& spec) { spec[f] = v; };
  };
  auto email = [field](const char* e) { return field("admin_email", e); };
  auto enterprise_quota = [](const char* f, nlohmann::json v) {
    return [f, v](TestTenant& t, nlohmann::json& spec) {
      t.view.tier = "enterprise";
      spec["quotas"] = {{"cpu_requests", "64"},     {"cpu_limits", "128"}, {"memory_requests", "256Gi"},
                        {"memory_limits", "512Gi"}, {"pvcs", 200},         {"services", 400}};
      if (v.is_null())
        spec["quotas"].erase(f);
      else
        spec["quotas"][f] = v;
    };
  };
  return {
      {"EmptySlug", slug(""), "slug is empty"},
      {"SlugTooLong", slug("a123456789012345678901234567890123456789x"), "longer than 40 characters"},
      {"SlugStartsWithDigit", slug("1acme"), "must start with a lowercase letter"},
      {"SlugStartsWithHyphen", slug("-acme"), "'-acme' must start with a lowercase letter"},
      {"SlugWithUppercase", slug("acMe"), "'acMe' may contain only lowercase letters"},
      {"SlugEndsWithHyphen", slug("acme-"), "must not end with a hyphen"},
      {"SlugWithUnderscore", slug("acme_corp"), "'acme_corp' may contain only"},
      {"SlugWithDot", slug("acme.corp"), "'acme.corp' may contain only"},
      {"SlugWithDoubleHyphen", slug("acme--corp"), "two hyphens in a row"},
      {"ReservedSlug", slug("admin"), "'admin' is reserved"},
      {"ReservedSlugFromSettings", slug("forbidden-name"), "'forbidden-name' is reserved"},
      {"UnknownTier", [](TestTenant& t, nlohmann::json&) { t.view.tier = "gold"; }, "tier 'gold' is unknown"},
      {"EmptyTier", [](TestTenant& t, nlohmann::json&) { t.view.tier = ""; }, "tier '' is unknown"},
      {"TenantIdNotUuid", [](TestTenant& t, nlohmann::json&) { t.view.id = "tenant-42"; }, "is not a UUID"},
      {"UnknownSpecField", field("color", "blue"), "unknown field 'color'"},
      {"SpecTierMismatch", field("tier", "enterprise"), "spec.tier does not match"},
      {"SpecSlugMismatch", field("slug", "someone-else"), "spec.slug does not match"},
      {"MissingRegion", [](TestTenant&, nlohmann::json& s) { s.erase("region"); }, "region is missing"},
      {"RegionNotString", field("region", 7), "region must be a string"},
      {"UnknownRegion", field("region", "mars-north-1"),
       "'mars-north-1' is not one of the configured regions"},
      {"MissingEmail", [](TestTenant&, nlohmann::json& s) { s.erase("admin_email"); },
       "admin_email is missing"},
      {"EmailNotString", field("admin_email", nlohmann::json::array()), "admin_email must be a string"},
      {"EmailWithoutAt", email("admin.example.com"), "has no '@'"},
      {"EmailWithTwoAts", email("a@b@example.com"), "more than one '@'"},
      {"EmailEmptyLocal", email("@example.com"), "empty local part"},
      {"EmailLocalTooLong",
       email("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com"),
       "local part longer than 64"},
      {"EmailWithSpace", email("ad min@example.com"), "character not allowed"},
      {"EmailDoubleDot", email("ad..min@example.com"), "misplaced dot"},
      {"EmailEmptyDomain", email("admin@"), "empty domain"},
      {"EmailDomainWithoutDot", email("admin@localhost"), "domain without a dot"},
      {"EmailBadDomainLabel", email("admin@-example.com"), "invalid domain"},
      {"EmailTooLong", email((std::string(60, 'a') + "@" + std::string(200, 'b') + ".com").c_str()),
       "longer than 254"},
      {"ServicesNotList", field("services", "bi-service"), "services must be a list"},
      {"ServiceNotString", field("services", nlohmann::json::array({1})),
       "services may contain only strings"},
      {"UnknownService", field("services", {"bitcoin-miner"}),
       "'bitcoin-miner' is not in the service catalog"},
      {"DuplicateService", field("services", {"bi-service", "bi-service"}), "'bi-service' is listed twice"},
      {"DisplayNameNotString", field("display_name", 12), "display_name must be a string"},
      {"DisplayNameTooLong", field("display_name", std::string(101, 'x')), "1 to 100 characters"},
      {"DisplayNameControlChars", field("display_name", "Acme\nCorp"), "control characters"},
      {"QuotasOnFreeTier", field("quotas", nlohmann::json::object({{"pvcs", 5}})),
       "only for the enterprise tier"},
      {"EnterpriseWithoutQuotas",
       [](TestTenant& t, nlohmann::json& s) {
         t.view.tier = "enterprise";
         s.erase("quotas");
       },
       "quotas are required"},
      {"EnterpriseQuotasNotObject",
       [](TestTenant& t, nlohmann::json& s) {
         t.view.tier = "enterprise";
         s["quotas"] = "lots";
       },
       "quotas must be an object"},
      {"EnterpriseBadQuantity", enterprise_quota("cpu_limits", "many"),
       "quotas.cpu_limits must be a Kubernetes quantity"},
      {"EnterpriseZeroPvcs", enterprise_quota("pvcs", 0), "quotas.pvcs must be an integer"},
      {"EnterpriseUnknownQuota", enterprise_quota("gpus", 4), "quotas has an unknown field 'gpus'"},
      {"EnterpriseMissingQuota", enterprise_quota("services", nullptr), "quotas.services is required"},
  };
}

class ValidateRequest : public ::testing::Test {
 protected:
  // Whether anything exists that a provisioning step would create.
  void ExpectNothingCreated() {
    pqxx::connection c(harness_.database().url());
    pqxx::nontransaction tx(c);
    EXPECT_EQ(0, tx.exec1("SELECT count(*) FROM pg_namespace WHERE nspname = 'control_plane'")[0].as<int>());
    EXPECT_FALSE(std::filesystem::exists(harness_.settings()["gitops.repository"]));
  }

  StepHarness harness_;
};

TEST_F(ValidateRequest, RejectsEachBadRequestWithItsOwnMessageAndCreatesNothing) {
  const auto cases = BadRequests();
  ASSERT_GE(cases.size(), 30u);
  std::set<std::string> messages;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TestTenant tenant = StepHarness::MakeTenant("free");
    auto spec = nlohmann::json::parse(tenant.view.spec_json);
    c.mutate(tenant, spec);
    tenant.view.spec_json = spec.dump();
    auto answer = harness_.Apply(kStep, tenant);
    EXPECT_EQ(MATIH_STATUS_INVALID_ARGUMENT, answer.status) << answer.message;
    EXPECT_NE(std::string::npos, answer.message.find(c.expected)) << answer.message;
    EXPECT_TRUE(answer.outputs.empty());
    EXPECT_TRUE(messages.insert(answer.message).second) << "message not unique: " << answer.message;
    // Observe of a never-validated request refuses it the same way: the runner's commands ask it.
    auto observed = harness_.Observe(kStep, tenant);
    EXPECT_EQ(MATIH_STATUS_INVALID_ARGUMENT, observed.status) << observed.message;
    EXPECT_EQ(answer.message, observed.message);
  }
  ExpectNothingCreated();
}

TEST_F(ValidateRequest, RejectsSpecThatIsNotJsonOrNotAnObjectOrTooLarge) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"region\": ", "spec is not valid JSON"},
      {"[1, 2]", "spec must be a JSON object"},
      {"{\"display_name\": \"" + std::string(70 * 1024, 'x') + "\"}", "more than the limit of 65536"},
  };
  for (const auto& [spec, expected] : cases) {
    TestTenant tenant = StepHarness::MakeTenant("starter");
    tenant.view.spec_json = spec;
    auto answer = harness_.Apply(kStep, tenant);
    EXPECT_EQ(MATIH_STATUS_INVALID_ARGUMENT, answer.status);
    EXPECT_NE(std::string::npos, answer.message.find(expected)) << answer.message;
  }
  ExpectNothingCreated();
}

TEST_F(ValidateRequest, ListsEveryProblemInOneError) {
  TestTenant tenant = StepHarness::MakeTenant("free");
  tenant.view.slug = "Bad_Slug";
  tenant.view.spec_json = R"({"region": "mars", "admin_email": "nobody", "services": ["nope"]})";
  auto answer = harness_.Apply(kStep, tenant);
  ASSERT_EQ(MATIH_STATUS_INVALID_ARGUMENT, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("(4 problems)")) << answer.message;
  for (const char* part : {"slug 'Bad_Slug'", "region 'mars'", "admin_email 'nobody'", "service 'nope'"})
    EXPECT_NE(std::string::npos, answer.message.find(part)) << answer.message;
}

TEST_F(ValidateRequest, AcceptsAValidRequestOfEveryTier) {
  for (const char* tier : {"free", "starter", "professional", "enterprise"}) {
    SCOPED_TRACE(tier);
    TestTenant tenant = StepHarness::MakeTenant(tier);
    EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant).status);
    auto answer = harness_.Apply(kStep, tenant);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
    EXPECT_EQ(64u, answer.outputs["request_sha256"].size());
    EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant).status);
  }
  ExpectNothingCreated();
}

TEST_F(ValidateRequest, ObservesAChangedSpecAsDriftedUntilValidatedAgain) {
  TestTenant tenant = StepHarness::MakeTenant("starter");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant).status);
  auto spec = nlohmann::json::parse(tenant.view.spec_json);
  spec["services"].push_back("ml-service");
  tenant.view.spec_json = spec.dump();
  auto observed = harness_.Observe(kStep, tenant);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("spec changed")) << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant).status);
}

TEST_F(ValidateRequest, ObservesARequestInvalidUnderNewRulesAsDrifted) {
  TestTenant tenant = StepHarness::MakeTenant("free");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant).status);
  harness_.settings()["tenant.regions"] = "us-east";
  auto observed = harness_.Observe(kStep, tenant);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("no longer valid")) << observed.message;
  EXPECT_EQ(MATIH_STATUS_INVALID_ARGUMENT, harness_.Apply(kStep, tenant).status);
}

TEST_F(ValidateRequest, RemoveHasNothingToUndoAndCanBeRepeated) {
  TestTenant tenant = StepHarness::MakeTenant("free");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant).status);
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant).status);
}

TEST_F(ValidateRequest, MissingRegionsSettingIsAPermanentErrorNamingIt) {
  harness_.settings().erase("tenant.regions");
  TestTenant tenant = StepHarness::MakeTenant("free");
  auto answer = harness_.Apply(kStep, tenant);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("targets.tenant.regions")) << answer.message;
}

TEST(StepCatalogParams, AreAcceptedByTheKindsOfSteps1To13) {
  for (int number = 1; number <= 13; ++number) {
    const auto* step = StepHarness::Catalog().Find(number);
    ASSERT_NE(nullptr, step);
    const auto* kind = StepHarness::Kinds().Find(step->kind);
    ASSERT_NE(nullptr, kind) << step->kind;
    auto status = kind->ValidateParams(step->params_json);
    EXPECT_TRUE(status.ok()) << step->name << ": " << status.ToString();
  }
}

}  // namespace
}  // namespace matih::testing
