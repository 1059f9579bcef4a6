#include <gtest/gtest.h>

#include <optional>
#include <set>

#include "engine/step_catalog.h"

namespace matih::testing {
namespace {

using namespace matih::runner;

TEST(StepCatalogTest, TheShippedCatalogHasFiftySixStepsInNinePhases) {
  auto c = StepCatalog::LoadFile(std::string(MATIH_SOURCE_DIR) + "/config/catalog.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->steps().size(), 56u);
  for (int i = 0; i < 56; ++i) EXPECT_EQ(c->steps()[i].number, i + 1);
  EXPECT_EQ(c->phases().size(), 9u);
  EXPECT_EQ(c->FindByName("create-namespace")->number, 7);
  EXPECT_EQ(c->FindByName("activate-tenant")->phase, 8);
}

TEST(StepCatalogTest, DedicatedTiersRunPhaseSevenAfterTheControlPlane) {
  auto c = StepCatalog::LoadFile(std::string(MATIH_SOURCE_DIR) + "/config/catalog.yaml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->Flow("professional")->phases, (std::vector<int>{0, 1, 7, 2, 3, 4, 5, 6, 8}));
  EXPECT_EQ(c->Flow("enterprise")->phases, (std::vector<int>{0, 1, 7, 2, 3, 4, 5, 6, 8}));
  EXPECT_EQ(c->Flow("free")->phases, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 8}));
  EXPECT_EQ(c->Flow("starter")->phases, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 8}));
  auto ordered = c->Ordered("professional");
  ASSERT_EQ(ordered.size(), 56u);
  EXPECT_EQ(ordered[6]->number, 49);  // after steps 1-6 comes validate-service-principal
}

TEST(StepCatalogTest, FreeTierSkipsCloudInfrastructureSteps) {
  auto c = StepCatalog::LoadFile(std::string(MATIH_SOURCE_DIR) + "/config/catalog.yaml");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->Applies(*c->Find(52), "free"));
  EXPECT_EQ(c->Ordered("free").size(), 56u);  // every step still has a row
}

Status Load(const std::string& yaml) { return StepCatalog::LoadString(yaml, "t.yaml").status(); }

const char* kHead = "version: 1\nphases: {0: a}\nflows:\n  free: {placement: shared, phases: [0]}\nsteps:\n";

TEST(StepCatalogTest, RefusesAnUnknownKeyNamingStepAndKey) {
  Status s =
      Load(std::string(kHead) + "  - {number: 1, name: x, phase: 0, kind: k, tiers: [free], colour: red}\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("step x: unknown key 'colour'"), std::string::npos) << s.message();
}

TEST(StepCatalogTest, WhenServiceLimitsAStepToTenantsRequestingTheService) {
  const std::string base =
      "version: 1\nphases: {0: p}\nflows: {free: {placement: shared, phases: [0]}}\nsteps:\n"
      "  - {number: 1, name: deploy-bi, phase: 0, kind: k, tiers: [free], when_service: ";
  auto c = StepCatalog::LoadString(base + "bi-service}\n", "t");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->Find(1)->when_service, "bi-service");
  EXPECT_TRUE(c->Applies(*c->Find(1), "free"));
  EXPECT_TRUE(c->Applies(*c->Find(1), "free", {"bi-service", "query-engine"}));
  EXPECT_FALSE(c->Applies(*c->Find(1), "free", {"query-engine"}));
  auto bad = StepCatalog::LoadString(base + "\"Bi Service\"}\n", "t");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("when_service 'Bi Service' is not a service name"), std::string::npos)
      << bad.status().message();
}

TEST(StepCatalogTest, AStepsPlacedOverridesItsPhasesAndOnlyTrueOrFalseIsAccepted) {
  const std::string base =
      "version: 1\nphases: {0: p, 1: q}\nflows: {free: {placement: shared, phases: [0, 1], placed: [1]}}\n"
      "steps:\n  - {number: 1, name: plain, phase: 0, kind: k, tiers: [free]}\n"
      "  - {number: 2, name: audit, phase: 0, kind: k, tiers: [free], placed: ";
  auto c = StepCatalog::LoadString(base + "true}\n", "t");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->Find(1)->placed.has_value()) << "unset: its phase decides";
  EXPECT_EQ(c->Find(2)->placed, std::optional<bool>(true));
  auto off = StepCatalog::LoadString(base + "false}\n", "t");
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_EQ(off->Find(2)->placed, std::optional<bool>(false));
  for (const std::string bad : {"yes", "1", "\"maybe\"", "[true]"}) {
    auto refused = StepCatalog::LoadString(base + bad + "}\n", "t");
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
    EXPECT_NE(refused.status().message().find("t: step audit: placed must be true or false"),
              std::string::npos)
        << refused.status().message();
  }
}

// Phase 6's steps whose objects live on the tenant's cluster (43, 44, 48) or NATS (45); the rest
// of phases 6 and 8 use servers the dedicated module does not hand over.
TEST(StepCatalogTest, TheShippedCatalogPlacesPhaseSixStepsOnTheTenantsTargetsOnly) {
  auto c = StepCatalog::LoadFile(std::string(MATIH_SOURCE_DIR) + "/config/catalog.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  for (const auto& step : c->steps()) {
    const bool expect = step.number == 43 || step.number == 44 || step.number == 45 || step.number == 48;
    EXPECT_EQ(step.placed.has_value(), expect) << step.number << " " << step.name;
    if (expect) {
      EXPECT_TRUE(step.placed.value_or(false)) << step.name;
    }
  }
}

TEST(StepCatalogTest, RefusesDuplicateNumbersAndNames) {
  EXPECT_FALSE(Load(std::string(kHead) + "  - {number: 1, name: x, phase: 0, kind: k, tiers: [free]}\n"
                                         "  - {number: 1, name: y, phase: 0, kind: k, tiers: [free]}\n")
                   .ok());
  EXPECT_FALSE(Load(std::string(kHead) + "  - {number: 1, name: x, phase: 0, kind: k, tiers: [free]}\n"
                                         "  - {number: 2, name: x, phase: 0, kind: k, tiers: [free]}\n")
                   .ok());
}

TEST(StepCatalogTest, RefusesUnknownPhaseTierAndBadDuration) {
  Status phase = Load(std::string(kHead) + "  - {number: 1, name: x, phase: 3, kind: k, tiers: [free]}\n");
  EXPECT_NE(phase.message().find("phase 3"), std::string::npos);
  Status tier = Load(std::string(kHead) + "  - {number: 1, name: x, phase: 0, kind: k, tiers: [gold]}\n");
  EXPECT_NE(tier.message().find("tier 'gold'"), std::string::npos);
  Status timeout = Load(std::string(kHead) +
                        "  - {number: 1, name: x, phase: 0, kind: k, tiers: [free], timeout: soon}\n");
  EXPECT_NE(timeout.message().find("'soon' is not a duration"), std::string::npos) << timeout.message();
}

TEST(StepCatalogTest, FlowsNameTheirPlacedPhasesAndAllowedDowngrades) {
  auto c = StepCatalog::LoadFile(std::string(MATIH_SOURCE_DIR) + "/config/catalog.yaml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->Flow("professional")->placed, (std::set<int>{2, 3, 4, 5}));
  EXPECT_EQ(c->Flow("free")->placed, (std::set<int>{2, 3, 4, 5}));
  EXPECT_TRUE(c->Flow("free")->downgrade_from.empty()) << "the shipped catalog allows no downgrade";
  const std::string head = "version: 1\nphases: {0: a, 1: b}\nflows:\n";
  const std::string steps = "steps:\n  - {number: 1, name: x, phase: 0, kind: k, tiers: [free, pro]}\n";
  auto ok =
      StepCatalog::LoadString(head +
                                  "  free: {placement: shared, phases: [0, 1], placed: [1], "
                                  "downgrade_from: [pro]}\n  pro: {placement: dedicated, phases: [0]}\n" +
                                  steps,
                              "t");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->Flow("free")->downgrade_from, (std::set<std::string>{"pro"}));
  Status outside = Load(head + "  free: {placement: shared, phases: [0], placed: [1]}\n" + steps);
  EXPECT_NE(outside.message().find("placed phase 1 is not in the flow's phases"), std::string::npos)
      << outside.message();
  Status unknown = Load(head + "  free: {placement: shared, phases: [0], downgrade_from: [gold]}\n" + steps);
  EXPECT_NE(unknown.message().find("downgrade_from names tier 'gold'"), std::string::npos)
      << unknown.message();
}

TEST(StepCatalogTest, StepRetryOverridesTheDefaults) {
  auto c = StepCatalog::LoadString(std::string(kHead) +
                                       "  - {number: 1, name: x, phase: 0, kind: k, tiers: [free], "
                                       "retry: {attempts: 7, initial_backoff: 1s}, params: {a: 1, b: [x]}}\n",
                                   "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->steps()[0].retry.attempts, 7);
  EXPECT_EQ(c->steps()[0].retry.initial_backoff, Millis(1000));
  EXPECT_EQ(c->steps()[0].params_json, R"({"a":1,"b":["x"]})");
}

TEST(RetryPolicyTest, BackoffGrowsExponentiallyUpToTheCap) {
  RetryPolicy p{5, Millis(100), Millis(1000), 2.0, 0.0};
  EXPECT_EQ(p.Delay(2, 0.5), Millis(100));
  EXPECT_EQ(p.Delay(3, 0.5), Millis(200));
  EXPECT_EQ(p.Delay(4, 0.5), Millis(400));
  EXPECT_EQ(p.Delay(9, 0.5), Millis(1000));
}

TEST(RetryPolicyTest, JitterSpreadsTheDelayBothWays) {
  RetryPolicy p{5, Millis(1000), Millis(10000), 2.0, 0.2};
  EXPECT_EQ(p.Delay(2, 0.0), Millis(800));
  EXPECT_EQ(p.Delay(2, 1.0), Millis(1200));
}

}  // namespace
}  // namespace matih::testing
