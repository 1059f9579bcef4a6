// Claiming and leases: many runners at once, fencing, due times.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "runner/runner_fixture.h"
#include "store/claim_query.h"
#include "store/tenant_session.h"

namespace matih::testing {
namespace {

using S = TenantStatus;

class ClaimTest : public RunnerFixture {
 protected:
  std::vector<ClaimedTenant> Claim(const std::string& owner, int limit = 50, Millis lease = Millis(60'000),
                                   Millis drift = Millis(86'400'000)) {
    auto conn = database_->Connect();
    EXPECT_TRUE(conn.ok());
    ClaimOptions o;
    o.owner = owner;
    o.limit = limit;
    o.lease = lease;
    o.drift_interval = drift;
    auto claimed = ClaimQuery::Claim(**conn, o);
    EXPECT_TRUE(claimed.ok()) << claimed.status().ToString();
    return claimed.ok() ? *claimed : std::vector<ClaimedTenant>{};
  }
};

TEST_F(ClaimTest, TwoRunnersInParallelNeverWorkOneTenantAndTogetherFinishAll) {
  UseCatalog({{"gamma", "{hang_ms: 20}"}});
  const int n = 24;
  for (int i = 0; i < n; ++i) Add("t" + std::to_string(i));
  RunSummary a, b;
  RunOptions o;
  o.workers = 3;
  o.limit = n;
  std::thread ta([&] { a = RunOk(o); });
  std::thread tb([&] { b = RunOk(o); });
  ta.join();
  tb.join();
  std::set<std::string> seen;
  for (const auto* run : {&a, &b})
    for (const auto& t : run->tenants) EXPECT_TRUE(seen.insert(t.slug).second) << t.slug << " worked twice";
  EXPECT_EQ(seen.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    std::string slug = "t" + std::to_string(i);
    EXPECT_EQ(Tenant(slug).status, S::kActive) << slug;
    EXPECT_EQ(CountEvents(slug, "tenant.claimed"), 1) << slug;
    EXPECT_EQ(Calls(slug, "gamma", "apply"), 1) << slug;
  }
}

TEST_F(ClaimTest, ConcurrentClaimsTakeDisjointSets) {
  for (int i = 0; i < 40; ++i) Add("t" + std::to_string(i));
  std::vector<std::vector<ClaimedTenant>> got(4);
  std::vector<std::thread> threads;
  for (int r = 0; r < 4; ++r)
    threads.emplace_back([&, r] { got[r] = Claim("runner-" + std::to_string(r), 15); });
  for (auto& t : threads) t.join();
  std::set<std::string> ids;
  size_t total = 0;
  for (const auto& g : got) {
    total += g.size();
    for (const auto& c : g) ids.insert(c.tenant.id);
  }
  EXPECT_EQ(total, 40u);
  EXPECT_EQ(ids.size(), 40u);
}

TEST_F(ClaimTest, ARunnerWhoseLeaseWasTakenOverWritesNothing) {
  Add("acme");
  auto first = Claim("runner-a", 1, Millis(1));
  ASSERT_EQ(first.size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto second = Claim("runner-b");
  ASSERT_EQ(second.size(), 1u) << "an expired lease is claimable";
  EXPECT_EQ(second[0].lease.epoch, first[0].lease.epoch + 1);
  std::string before = Snapshot();

  auto conn = database_->Connect();
  ASSERT_TRUE(conn.ok());
  TenantSession stale(**conn, first[0].lease, S::kPending, "run-a", "runner-a");
  ASSERT_TRUE(stale.Update({.status = S::kProvisioning}).ok());
  StepRecord rec;
  rec.number = 1;
  rec.name = "alpha";
  rec.status = StepStatus::kDone;
  stale.SetStep(rec);
  Status s = stale.Flush();
  EXPECT_EQ(s.code(), Code::kAborted);
  EXPECT_NE(s.message().find("lease lost"), std::string::npos);
  EXPECT_EQ(Snapshot(), before);

  auto lost = ClaimQuery::Heartbeat(**conn, {first[0].lease, second[0].lease}, Millis(60'000));
  ASSERT_TRUE(lost.ok());
  EXPECT_EQ(*lost, std::vector<std::string>{first[0].lease.tenant_id});
}

TEST_F(ClaimTest, HeartbeatNoticesALostLeaseAndStopsWorkOnThatTenant) {
  UseCatalog({{"gamma", "{hang_ms: 10000}"}});
  Add("acme");
  RunOptions o;
  o.heartbeat = Millis(100);
  o.lease = Millis(2000);
  std::thread thief([&] {
    // Wait until gamma is in flight, then take the tenant as another runner would.
    for (int i = 0; i < 200 && Calls("acme", "gamma", "apply") == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    Sql("UPDATE matih.tenants SET lease_owner = 'thief', lease_epoch = lease_epoch + 1 WHERE slug = 'acme'");
  });
  auto started = std::chrono::steady_clock::now();
  RunSummary run = RunOk(o);
  thief.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(8))
      << "the hanging call was not cancelled";
  ASSERT_EQ(run.tenants.size(), 1u);
  EXPECT_EQ(run.tenants[0].outcome, "lease_lost");
  EXPECT_EQ(Tenant("acme").lease_owner, "thief");
  EXPECT_EQ(Steps("acme")["gamma"].status, StepStatus::kRunning)
      << "the stale runner recorded nothing after the theft";
}

// Secret writes are fenced like every other write (issue 17 §3): the step of a runner whose lease
// was taken while it ran stores nothing.
TEST_F(ClaimTest, AStepOfARunnerWhoseLeaseWasTakenStoresNoSecret) {
  UseCatalog({{"gamma", "{hang_ms: 800, ignore_cancel: true, secret: api-token}"}});
  Add("acme");
  RunOptions o;
  o.heartbeat = Millis(100);
  o.lease = Millis(2000);
  std::thread thief([&] {
    for (int i = 0; i < 200 && Calls("acme", "gamma", "apply") == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    Sql("UPDATE matih.tenants SET lease_owner = 'thief', lease_epoch = lease_epoch + 1 WHERE slug = 'acme'");
  });
  RunSummary run = RunOk(o);
  thief.join();
  // The call ignores its cancel flag and tries to store the secret after the theft.
  const std::filesystem::path marker = Target("acme", "gamma").string() + ".secret";
  for (int i = 0; i < 250 && !std::filesystem::exists(marker); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::string answer;
  std::getline(std::ifstream(marker), answer);
  EXPECT_EQ(answer, "refused " + std::to_string(MATIH_STATUS_ABORTED));
  EXPECT_EQ(secrets_->Get(Tenant("acme").id, "matih-test-steps/api-token").status().code(), Code::kNotFound);
  EXPECT_EQ(Tenant("acme").lease_owner, "thief");
}

TEST_F(ClaimTest, AStepOfTheLeaseHolderStoresItsSecret) {
  UseCatalog({{"gamma", "{secret: api-token}"}});
  Add("acme");
  RunOk();
  std::string answer;
  std::getline(std::ifstream(Target("acme", "gamma").string() + ".secret"), answer);
  EXPECT_EQ(answer, "stored");
  auto value = secrets_->Get(Tenant("acme").id, "matih-test-steps/api-token");
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, "value-of-acme");
}

TEST_F(ClaimTest, ALiveLeaseIsNotClaimedAgain) {
  Add("acme");
  ASSERT_EQ(Claim("runner-a").size(), 1u);
  EXPECT_TRUE(Claim("runner-b").empty());
}

TEST_F(ClaimTest, ClaimRespectsRetryTimes) {
  Add("acme");
  Sql("UPDATE matih.tenants SET next_attempt_at = now() + interval '1 hour' WHERE slug = 'acme'");
  EXPECT_TRUE(Claim("r").empty());
  Sql("UPDATE matih.tenants SET next_attempt_at = now() - interval '1 second' WHERE slug = 'acme'");
  EXPECT_EQ(Claim("r").size(), 1u);
}

TEST_F(ClaimTest, ActiveTenantsAreDueOnlyAfterTheDriftIntervalOrASpecChange) {
  Add("acme");
  RunOk();
  ASSERT_EQ(Tenant("acme").status, S::kActive);
  EXPECT_TRUE(Claim("r", 10, Millis(60'000), Millis(3'600'000)).empty());
  Sql("UPDATE matih.tenants SET last_reconciled_at = now() - interval '2 hours' WHERE slug = 'acme'");
  auto due = Claim("r", 10, Millis(1), Millis(3'600'000));
  EXPECT_EQ(due.size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  Sql("UPDATE matih.tenants SET last_reconciled_at = now(), generation = generation + 1 WHERE slug = 'acme'");
  EXPECT_EQ(Claim("r2", 10, Millis(60'000), Millis(3'600'000)).size(), 1u);
}

TEST_F(ClaimTest, PendingOnlyAndDriftOnlySplitTheWork) {
  Add("old");
  RunOk();
  Add("new");
  Sql("UPDATE matih.tenants SET last_reconciled_at = now() - interval '2 days' WHERE slug = 'old'");
  auto conn = database_->Connect();
  ASSERT_TRUE(conn.ok());
  ClaimOptions o;
  o.owner = "r";
  o.mode = ClaimMode::kDriftOnly;
  auto drift = ClaimQuery::Claim(**conn, o);
  ASSERT_TRUE(drift.ok());
  ASSERT_EQ(drift->size(), 1u);
  EXPECT_EQ((*drift)[0].tenant.slug, "old");
  o.mode = ClaimMode::kPendingOnly;
  auto pending = ClaimQuery::Claim(**conn, o);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].tenant.slug, "new");
}

TEST_F(ClaimTest, SuspendedFailedAndDeletedTenantsAreNeverClaimed) {
  Add("a");
  Add("b");
  Add("c");
  Sql("SET session_replication_role = replica;"
      "UPDATE matih.tenants SET status = 'SUSPENDED' WHERE slug = 'a';"
      "UPDATE matih.tenants SET status = 'FAILED' WHERE slug = 'b';"
      "UPDATE matih.tenants SET status = 'DELETED' WHERE slug = 'c';");
  EXPECT_TRUE(Claim("r", 10, Millis(60'000), Millis(0)).empty());
}

TEST_F(ClaimTest, TheClaimCarriesEachTenantsOwnStepRowsReadInItsTransaction) {
  Add("done");
  RunOk();  // "done" is ACTIVE, every step DONE with its outputs
  Add("fresh");
  auto claimed = Claim("runner-a", 50, Millis(60'000), Millis(0));  // the drift pass is due at once
  ASSERT_EQ(claimed.size(), 2u);
  for (const ClaimedTenant& c : claimed) {
    ASSERT_TRUE(c.steps.has_value()) << c.tenant.slug;
    const auto want = Steps(c.tenant.slug);
    ASSERT_EQ(c.steps->size(), want.size()) << c.tenant.slug;
    for (const auto& [number, rec] : *c.steps) {
      ASSERT_TRUE(want.count(rec.name)) << c.tenant.slug << " step " << rec.name;
      const StepRecord& w = want.at(rec.name);
      EXPECT_EQ(number, w.number);
      EXPECT_EQ(rec.status, w.status) << c.tenant.slug << " " << rec.name;
      EXPECT_EQ(rec.outputs, w.outputs) << c.tenant.slug << " " << rec.name;
      if (c.tenant.slug == "fresh")
        EXPECT_EQ(rec.status, StepStatus::kPending) << rec.name;
      else
        EXPECT_NE(rec.status, StepStatus::kPending) << rec.name;
    }
  }
}

// The step rows are read 128 tenants a statement (ReadStepsOf): a claim of more tenants than
// that still gives each tenant exactly its own rows.
TEST_F(ClaimTest, AClaimOfManyTenantsGivesEachItsOwnStepRows) {
  for (int i = 0; i < 130; ++i) Add("many-" + std::to_string(i));
  Sql("INSERT INTO matih.tenant_steps (tenant_id, step_number, step_name, phase, status, attempts, outputs) "
      "SELECT id, 1, 'one', 0, 'DONE', 1, jsonb_build_object('slug', slug) FROM matih.tenants");
  auto claimed = Claim("runner-a", 130);
  ASSERT_EQ(claimed.size(), 130u);
  for (const ClaimedTenant& c : claimed) {
    ASSERT_TRUE(c.steps.has_value()) << c.tenant.slug;
    ASSERT_EQ(c.steps->size(), 1u) << c.tenant.slug;
    EXPECT_EQ(c.steps->at(1).outputs.at("slug"), c.tenant.slug);
  }
}

// A batch run claims without the step rows (read_steps off) and its workers read them a share at
// a time (ClaimQuery::ReadSteps): each tenant of a share gets exactly its own rows, the others
// stay unset. Outputs of strings only take the reader's fast path; any other value is kept as its
// JSON text (step 2).
TEST_F(ClaimTest, StepRowsReadAfterTheClaimGoToTheirOwnTenantsOnly) {
  for (int i = 0; i < 5; ++i) Add("later-" + std::to_string(i));
  Sql("INSERT INTO matih.tenant_steps (tenant_id, step_number, step_name, phase, status, attempts, outputs) "
      "SELECT id, 1, 'one', 0, 'DONE', 1, jsonb_build_object('slug', slug) FROM matih.tenants;"
      "INSERT INTO matih.tenant_steps (tenant_id, step_number, step_name, phase, status, attempts, outputs) "
      "SELECT id, 2, 'two', 0, 'DONE', 1, jsonb_build_object('n', 3, 'o', jsonb_build_object('a', 'b'), "
      "'s', slug) FROM matih.tenants");
  auto conn = database_->Connect();
  ASSERT_TRUE(conn.ok());
  ClaimOptions o;
  o.owner = "runner-a";
  o.limit = 5;
  o.read_steps = false;
  auto claimed = ClaimQuery::Claim(**conn, o);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_EQ(claimed->size(), 5u);
  for (const ClaimedTenant& c : *claimed) EXPECT_FALSE(c.steps.has_value()) << c.tenant.slug;
  std::vector<ClaimedTenant*> share{&(*claimed)[1], &(*claimed)[3]};
  ASSERT_TRUE(ClaimQuery::ReadSteps(**conn, share).ok());
  for (size_t i = 0; i < claimed->size(); ++i) {
    const ClaimedTenant& c = (*claimed)[i];
    if (i != 1 && i != 3) {
      EXPECT_FALSE(c.steps.has_value()) << c.tenant.slug;
      continue;
    }
    ASSERT_TRUE(c.steps.has_value()) << c.tenant.slug;
    ASSERT_EQ(c.steps->size(), 2u) << c.tenant.slug;
    EXPECT_EQ(c.steps->at(1).outputs, (StepOutputs{{"slug", c.tenant.slug}}));
    EXPECT_EQ(c.steps->at(2).outputs, (StepOutputs{{"n", "3"}, {"o", R"({"a":"b"})"}, {"s", c.tenant.slug}}));
  }
}

TEST_F(ClaimTest, ExplainRunsTheClaimsAndRollsThemBack) {
  Add("acme");
  RunOk();
  Sql("UPDATE matih.tenants SET last_reconciled_at = now() - interval '2 days'");
  auto conn = database_->Connect();
  ASSERT_TRUE(conn.ok());
  ClaimOptions o;
  o.owner = "explainer";
  o.mode = ClaimMode::kDriftOnly;
  auto plan = ClaimQuery::Explain(**conn, o);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_NE(plan->find("-- claim 3: drift"), std::string::npos) << *plan;
  EXPECT_EQ(plan->find("-- claim 1"), std::string::npos) << "a drift-only explain shows no onboarding claim";
  EXPECT_NE(plan->find("Update on tenants"), std::string::npos) << *plan;
  EXPECT_NE(plan->find("rows=1 "), std::string::npos) << "EXPLAIN ANALYZE ran the claim: " << *plan;
  // Rolled back: the tenant is still due and unleased, and a real claim takes it.
  EXPECT_TRUE(Tenant("acme").lease_owner.empty());
  EXPECT_EQ(Claim("runner-a", 50, Millis(60'000), Millis(86'400'000)).size(), 1u);
}

}  // namespace
}  // namespace matih::testing
