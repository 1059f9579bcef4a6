// A tenant's own targets and the move between placements (engine/tenant_targets.h,
// engine/tier_upgrade.h), end to end through the real engine with the test plugin: the "cluster"
// step stands for step 54 and records target.test.placed_dir; the placed steps' files live in
// the folder that setting names, so where a file is says where the step put its object.
#include "engine/tier_upgrade.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "runner/runner_fixture.h"

namespace matih::testing {
namespace {

namespace fs = std::filesystem;
using S = TenantStatus;

class TierUpgradeTest : public RunnerFixture {
 protected:
  void SetUp() override {
    RunnerFixture::SetUp();
    shared_ = state_dir_ / "shared";
    dedicated_ = state_dir_ / "dedicated";
    engine_.settings["test.placed_dir"] = shared_.string();
    engine_.declared_settings["matih-test-steps"] = {{"test.state_dir", false}, {"test.placed_dir", false}};
    UseTierCatalog();
  }

  // Phase 1 is placed; professional builds its own targets (phase 2) first.
  void UseTierCatalog(const std::string& delta = "{dir_setting: test.placed_dir}",
                      const std::string& target_value = "") {
    const std::string value = target_value.empty() ? dedicated_.string() : target_value;
    const std::string y =
        "version: 1\nphases: {0: first, 1: placed, 2: dedicated}\n"
        "flows:\n"
        "  free: {placement: shared, phases: [0, 1], placed: [1]}\n"
        "  professional: {placement: dedicated, phases: [0, 2, 1], placed: [1]}\n"
        "defaults:\n  retry: {attempts: 2, initial_backoff: 10ms, max_backoff: 20ms}\n  timeout: 10s\n"
        "steps:\n"
        "  - {number: 1, name: alpha, phase: 0, kind: test.file, tiers: [free, professional]}\n"
        "  - {number: 2, name: gamma, phase: 1, kind: test.file, tiers: [free, professional], "
        "params: {dir_setting: test.placed_dir}}\n"
        "  - {number: 3, name: delta, phase: 1, kind: test.file, tiers: [free, professional], params: " +
        delta +
        "}\n"
        "  - {number: 4, name: cluster, phase: 2, kind: test.file, tiers: [professional], "
        "params: {output: target.test.placed_dir, output_value: \"" +
        value + "\"}}\n";
    auto catalog = StepCatalog::LoadString(y, "tier test catalog");
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::make_unique<StepCatalog>(std::move(*catalog));
  }

  void Upgrade(const std::string& slug) {
    auto r = TenantStore(*database_).Command(slug, "test", [](const TenantRecord&) -> Result<TenantChange> {
      TenantChange c;
      c.status = S::kUpgrading;
      c.tier = "professional";
      c.bump_generation = true;
      c.audit.event = "operator.upgrade";
      return c;
    });
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  bool At(const fs::path& dir, const std::string& slug, const std::string& step) {
    return fs::exists(dir / slug / step);
  }

  std::vector<std::string> JournalOf(const fs::path& dir, const std::string& slug) {
    std::vector<std::string> lines;
    std::ifstream in(dir / slug / "journal");
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  fs::path shared_, dedicated_;
};

TEST_F(TierUpgradeTest, SharedTenantRecordsWhereItsPlacedStepsLive) {
  Add("acme");
  RunOk();
  auto steps = Steps("acme");
  EXPECT_EQ(steps["gamma"].outputs[TierUpgrade::kPlacementKey], "shared:free");
  EXPECT_EQ(steps["alpha"].outputs.count(TierUpgrade::kPlacementKey), 0u) << "phase 0 is not placed";
  EXPECT_TRUE(At(shared_, "acme", "gamma"));
  EXPECT_FALSE(At(dedicated_, "acme", "gamma"));
}

TEST_F(TierUpgradeTest, UpgradeMovesPlacedStepsToTheTenantsOwnTargetsThenRemovesTheShared) {
  Add("acme");
  Add("other");
  RunOk();
  Upgrade("acme");
  RunSummary run = RunOk();
  ASSERT_EQ(run.tenants.size(), 1u);
  EXPECT_EQ(run.tenants[0].outcome, "upgraded") << run.tenants[0].error;
  EXPECT_EQ(Tenant("acme").status, S::kActive);
  for (const char* step : {"gamma", "delta"}) {
    EXPECT_TRUE(At(dedicated_, "acme", step)) << step;
    EXPECT_FALSE(At(shared_, "acme", step)) << step << " left on the shared target";
    auto rec = Steps("acme")[step];
    EXPECT_EQ(rec.outputs[TierUpgrade::kPlacementKey], "dedicated:professional");
    EXPECT_EQ(rec.outputs.count(TierUpgrade::kLeftBehindKey), 0u);
  }
  // Applied at the new place first, removed from the old one afterwards, in reverse order.
  EXPECT_EQ(JournalOf(dedicated_, "acme"), (std::vector<std::string>{"apply gamma", "apply delta"}));
  auto old = JournalOf(shared_, "acme");
  ASSERT_GE(old.size(), 2u);
  EXPECT_EQ(old[old.size() - 2], "remove delta");
  EXPECT_EQ(old.back(), "remove gamma");
  EXPECT_EQ(CountEvents("acme", "step.moved"), 2);
  // The tenant that stayed shared is untouched.
  EXPECT_TRUE(At(shared_, "other", "gamma"));
  EXPECT_FALSE(At(dedicated_, "other", "gamma"));
  // Converged: the next pass changes nothing anywhere.
  RunOptions drift;
  drift.drift_interval = Millis(0);
  drift.mode = ClaimMode::kDriftOnly;
  RunSummary again = RunOk(drift);
  EXPECT_EQ(again.tenants.size(), 2u);
  for (const auto& t : again.tenants) EXPECT_EQ(t.outcome, "in_sync") << t.slug << ": " << t.error;
  EXPECT_EQ(JournalOf(dedicated_, "acme").size(), 2u);
}

// A step's own `placed` (catalog) overrides its phase's: "audit" in unplaced phase 3, which runs
// after the tenant's targets are made, moves with the tenant (as step 45's stream on the tenant's
// NATS in phase 6), "local" in placed phase 1 stays.
TEST_F(TierUpgradeTest, AStepsOwnPlacedOverridesItsPhase) {
  const std::string y =
      "version: 1\nphases: {0: first, 1: placed, 2: dedicated, 3: later}\n"
      "flows:\n"
      "  free: {placement: shared, phases: [0, 1, 3], placed: [1]}\n"
      "  professional: {placement: dedicated, phases: [0, 2, 1, 3], placed: [1]}\n"
      "defaults:\n  retry: {attempts: 2, initial_backoff: 10ms, max_backoff: 20ms}\n  timeout: 10s\n"
      "steps:\n"
      "  - {number: 1, name: audit, phase: 3, kind: test.file, tiers: [free, professional], placed: true, "
      "params: {dir_setting: test.placed_dir}}\n"
      "  - {number: 2, name: local, phase: 1, kind: test.file, tiers: [free, professional], placed: false}\n"
      "  - {number: 3, name: gamma, phase: 1, kind: test.file, tiers: [free, professional], "
      "params: {dir_setting: test.placed_dir}}\n"
      "  - {number: 4, name: cluster, phase: 2, kind: test.file, tiers: [professional], "
      "params: {output: target.test.placed_dir, output_value: \"" +
      dedicated_.string() + "\"}}\n";
  auto catalog = StepCatalog::LoadString(y, "placed test catalog");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  catalog_ = std::make_unique<StepCatalog>(std::move(*catalog));
  Add("acme");
  RunOk();
  auto before = Steps("acme");
  EXPECT_EQ(before["audit"].outputs[TierUpgrade::kPlacementKey], "shared:free");
  EXPECT_EQ(before["local"].outputs.count(TierUpgrade::kPlacementKey), 0u)
      << "placed: false in a placed phase";
  ASSERT_TRUE(At(shared_, "acme", "audit"));

  Upgrade("acme");
  RunSummary run = RunOk();
  ASSERT_EQ(run.tenants.size(), 1u);
  EXPECT_EQ(run.tenants[0].outcome, "upgraded") << run.tenants[0].error;
  EXPECT_TRUE(At(dedicated_, "acme", "audit"));
  EXPECT_FALSE(At(shared_, "acme", "audit"))
      << "the placed step of an unplaced phase stayed on the shared target";
  auto after = Steps("acme");
  EXPECT_EQ(after["audit"].outputs[TierUpgrade::kPlacementKey], "dedicated:professional");
  EXPECT_EQ(after["audit"].outputs.count(TierUpgrade::kLeftBehindKey), 0u);
  EXPECT_EQ(after["local"].outputs.count(TierUpgrade::kPlacementKey), 0u);
  const auto journal = Journal("acme");
  EXPECT_EQ(std::count(journal.begin(), journal.end(), "apply local"), 1)
      << "the unplaced step was applied again";
  EXPECT_EQ(std::count(journal.begin(), journal.end(), "remove local"), 0) << "the unplaced step was removed";
  EXPECT_EQ(CountEvents("acme", "step.moved"), 2) << "audit and gamma move, local does not";
}

TEST_F(TierUpgradeTest, FailureWhileMovingKeepsTheOldObjectsAndSaysWhatIsLeft) {
  Add("acme");
  RunOk();
  UseTierCatalog("{dir_setting: test.placed_dir, fail: permanent}");
  Upgrade("acme");
  RunOk();
  TenantRecord t = Tenant("acme");
  EXPECT_EQ(t.status, S::kFailed);
  EXPECT_NE(t.last_error.find("left to do"), std::string::npos) << t.last_error;
  EXPECT_NE(t.last_error.find("3"), std::string::npos) << t.last_error;
  // Nothing was removed from where the tenant works until the move is complete.
  EXPECT_TRUE(At(shared_, "acme", "gamma"));
  EXPECT_TRUE(At(shared_, "acme", "delta"));
  EXPECT_TRUE(At(dedicated_, "acme", "gamma"));
  EXPECT_EQ(Steps("acme")["gamma"].outputs[TierUpgrade::kLeftBehindKey], "shared:free");

  // Fixed and retried: the move finishes where it stopped.
  UseTierCatalog();
  auto retry =
      TenantStore(*database_).Command("acme", "test", [](const TenantRecord&) -> Result<TenantChange> {
        TenantChange c;
        c.status = S::kProvisioning;
        c.audit.event = "operator.retry";
        return c;
      });
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  RunSummary run = RunOk();
  ASSERT_EQ(run.tenants.size(), 1u);
  EXPECT_EQ(Tenant("acme").status, S::kActive) << run.tenants[0].error;
  EXPECT_FALSE(At(shared_, "acme", "gamma"));
  EXPECT_FALSE(At(shared_, "acme", "delta"));
  EXPECT_TRUE(At(dedicated_, "acme", "delta"));
  EXPECT_EQ(JournalOf(dedicated_, "acme"), (std::vector<std::string>{"apply gamma", "apply delta"}))
      << "gamma applied twice";
}

TEST_F(TierUpgradeTest, DedicatedTenantIsProvisionedOnItsOwnTargetsAndTornDownThere) {
  Add("big", "professional");
  RunOk();
  EXPECT_EQ(Tenant("big").status, S::kActive);
  EXPECT_TRUE(At(dedicated_, "big", "gamma"));
  EXPECT_FALSE(At(shared_, "big", "gamma"));
  Sql("UPDATE matih.tenants SET status = 'PENDING_DELETION', deletion_due_at = now() - interval '1 second' "
      "WHERE slug = 'big'");
  RunSummary run = RunOk();
  ASSERT_EQ(run.tenants.size(), 1u);
  EXPECT_EQ(run.tenants[0].outcome, "deleted") << run.tenants[0].error;
  EXPECT_FALSE(At(dedicated_, "big", "gamma"));
  EXPECT_FALSE(At(dedicated_, "big", "delta"));
  EXPECT_EQ(Journal("big").back(), "remove alpha");
  EXPECT_EQ(JournalOf(dedicated_, "big"),
            (std::vector<std::string>{"apply gamma", "apply delta", "remove delta", "remove gamma"}));
}

TEST_F(TierUpgradeTest, AnOutputNamingAnUndeclaredSettingIsRefused) {
  engine_.declared_settings["matih-test-steps"].erase("test.placed_dir");
  Add("big", "professional");
  RunOk();
  TenantRecord t = Tenant("big");
  EXPECT_NE(t.last_error.find("target.test.placed_dir"), std::string::npos) << t.last_error;
  EXPECT_NE(t.last_error.find("declare"), std::string::npos) << t.last_error;
  EXPECT_FALSE(At(dedicated_, "big", "gamma"));
}

TEST_F(TierUpgradeTest, ASecretSettingComesOnlyFromTheVault) {
  engine_.declared_settings["matih-test-steps"]["test.placed_dir"] = true;
  Add("big", "professional");
  RunOk();
  EXPECT_NE(Tenant("big").last_error.find("in the clear"), std::string::npos) << Tenant("big").last_error;
  EXPECT_FALSE(At(dedicated_, "big", "gamma"));

  // The same value through the vault of the plugin that recorded the output.
  UseTierCatalog("{dir_setting: test.placed_dir}", "vault:placed-dir");
  Add("vip", "professional");
  ASSERT_TRUE(secrets_->Put(Tenant("vip").id, "matih-test-steps/placed-dir", dedicated_.string()).ok());
  RunOk();
  EXPECT_EQ(Tenant("vip").status, S::kActive) << Tenant("vip").last_error;
  EXPECT_TRUE(At(dedicated_, "vip", "gamma"));
  EXPECT_FALSE(At(shared_, "vip", "gamma"));
}

}  // namespace
}  // namespace matih::testing
