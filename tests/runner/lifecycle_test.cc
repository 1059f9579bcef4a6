// Lifecycle of claims and runs on the real engine and PostgreSQL: attempts counted at claim,
// poison tenants quarantined with the reason, dead runners' runs closed, claim order and its
// index scans, the provisioning deadline across runs, heartbeat failure cancelling work before
// the lease ends, and a database lost mid-run (through a TCP relay the test cuts).
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>

#include "runner/runner_fixture.h"
#include "runner/tcp_relay.h"
#include "store/audit_log.h"
#include "store/claim_query.h"
#include "store/db_link.h"
#include "store/in_sync_batch.h"
#include "store/tenant_session.h"

namespace matih::testing {
namespace {

using S = TenantStatus;
using namespace std::chrono_literals;

class LifecycleTest : public RunnerFixture {
 protected:
  std::string Value(const std::string& sql) {
    pqxx::connection c(db_->url());
    pqxx::nontransaction tx(c);
    auto r = tx.exec(sql);
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
  }
  std::vector<ClaimedTenant> Claim(const std::string& owner, const std::string& run_id, int limit = 50) {
    auto conn = database_->Connect();
    EXPECT_TRUE(conn.ok());
    ClaimOptions o;
    o.owner = owner;
    o.limit = limit;
    o.run_id = run_id;
    auto claimed = ClaimQuery::Claim(**conn, o);
    EXPECT_TRUE(claimed.ok()) << claimed.status().ToString();
    return claimed.ok() ? *claimed : std::vector<ClaimedTenant>{};
  }
  Result<RunSummary> RunOn(const Database& db, RunOptions options) {
    ServiceDeps deps;
    deps.catalog = catalog_.get();
    deps.kinds = plugins_.get();
    deps.secrets = secrets_.get();
    deps.metrics = &metrics_;
    deps.options = &engine_;
    deps.run_id = NewUuid();
    deps.runner = runner_.empty() ? "test-runner:" + deps.run_id.substr(0, 8) : runner_;
    last_run_id_ = deps.run_id;
    BatchRun run(db, deps, options);
    auto summary = run.Execute();
    if (before_finish_) before_finish_();
    if (summary.ok()) finish_ = run.Finish(summary->database_lost ? 4 : 0);
    return summary;
  }
  std::string last_run_id_;
  Status finish_;
  std::function<void()> before_finish_;  // between Execute and Finish
  std::string runner_;                   // the runner identity of RunOn ("" for a test one)
};

TEST_F(LifecycleTest, AClaimCountsAnAttemptAndATakeoverCountsACrashAndClosesTheDeadRun) {
  TenantRecord t = Add("crashy");
  Sql("INSERT INTO matih.runs (id, runner, mode) VALUES ('11111111-1111-4111-8111-111111111111', 'dead:1', "
      "'all')");
  auto first = Claim("dead:1", "11111111-1111-4111-8111-111111111111");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(first[0].runner_lost);
  EXPECT_EQ(first[0].tenant.attempts, 1);
  EXPECT_EQ(first[0].tenant.crashes, 0);
  // The runner dies holding the lease; it expires.
  Sql("UPDATE matih.tenants SET lease_expires_at = now() - interval '1 second' WHERE slug = 'crashy'");
  auto second = Claim("next:2", "22222222-2222-4222-8222-222222222222");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_TRUE(second[0].runner_lost);
  EXPECT_EQ(second[0].tenant.attempts, 2);
  EXPECT_EQ(second[0].tenant.crashes, 1);
  EXPECT_NE(Value("SELECT finished_at FROM matih.runs WHERE id = '11111111-1111-4111-8111-111111111111'"),
            "");
  EXPECT_EQ(Value("SELECT closed_reason FROM matih.runs WHERE id = '11111111-1111-4111-8111-111111111111'"),
            "the runner was lost; its lease was taken over by run 22222222-2222-4222-8222-222222222222");
  (void)t;
}

TEST_F(LifecycleTest, ARunOfADeadRunnerOnThisHostThatHeldNoLeaseIsClosedByTheNextRun) {
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);  // a pid that no process has any more
  const std::string me = RunnerIdentity();
  const std::string host = me.substr(0, me.rfind(':'));
  Sql("INSERT INTO matih.runs (id, runner, mode) VALUES ('33333333-3333-4333-8333-333333333333', '" + host +
      ":" + std::to_string(child) + "', 'all'), ('44444444-4444-4444-8444-444444444444', '" + me +
      "', 'all')");
  runner_ = me;  // a run of this process, named as the CLI names it
  ASSERT_TRUE(RunOn(*database_, {}).ok());
  EXPECT_NE(Value("SELECT closed_reason FROM matih.runs WHERE id = '33333333-3333-4333-8333-333333333333'")
                .find("the runner process (pid " + std::to_string(child) + ") is gone"),
            std::string::npos);
  // A live runner's run (this process) stays open.
  EXPECT_EQ(Value("SELECT finished_at FROM matih.runs WHERE id = '44444444-4444-4444-8444-444444444444'"),
            "");
}

TEST_F(LifecycleTest, AHeartbeatAfterTheTenantFinishedReportsNoLostLease) {
  Add("done");
  Add("taken");
  auto claimed = Claim("r:1", "");
  ASSERT_EQ(claimed.size(), 2u);
  // "done" finished: its runner released the lease (same epoch, no owner). "taken" was fenced
  // by an operator (epoch bumped).
  Sql("UPDATE matih.tenants SET lease_owner = NULL, lease_expires_at = NULL WHERE slug = 'done'");
  Sql("UPDATE matih.tenants SET lease_owner = NULL, lease_expires_at = NULL, lease_epoch = lease_epoch + 1 "
      "WHERE slug = 'taken'");
  auto conn = database_->Connect();
  ASSERT_TRUE(conn.ok());
  auto lost = ClaimQuery::Heartbeat(**conn, {claimed[0].lease, claimed[1].lease}, Millis(60'000));
  ASSERT_TRUE(lost.ok()) << lost.status().ToString();
  EXPECT_EQ(*lost, std::vector<std::string>{Tenant("taken").id});
}

TEST_F(LifecycleTest, APoisonTenantIsRolledBackWithTheStepThatWasRunningAndNoPluginCallIsMade) {
  engine_.max_tenant_attempts = 3;
  Add("poison");
  RunOk();  // provisions it: steps exist on the target
  ASSERT_EQ(Tenant("poison").status, S::kActive);
  // Three claims died in gamma: what the database holds after three runners were SIGKILLed (the
  // takeovers of the first two counted two crashes; this run's takeover counts the third).
  Sql("SET session_replication_role = replica; UPDATE matih.tenants SET status = 'PROVISIONING', attempts = "
      "3, "
      "crashes = 2, lease_owner = 'dead:9', lease_epoch = lease_epoch + 1, "
      "lease_expires_at = now() - interval '1 second' WHERE slug = 'poison'");
  Sql("UPDATE matih.tenant_steps SET status = 'RUNNING' FROM matih.tenants t "
      "WHERE t.id = tenant_id AND t.slug = 'poison' AND step_name = 'gamma'");
  const int gamma_calls = Calls("poison", "gamma", "apply") + Calls("poison", "gamma", "observe");
  RunSummary run = RunOk();
  ASSERT_EQ(run.tenants.size(), 1u);
  EXPECT_EQ(run.tenants[0].outcome, "rolled_back");
  TenantRecord t = Tenant("poison");
  EXPECT_EQ(t.status, S::kRolledBack);
  EXPECT_NE(t.last_error.find("crashed 3 times in step 3 gamma: the runner was lost"), std::string::npos)
      << t.last_error;
  EXPECT_EQ(t.attempts, 3);  // the quarantining claim is not an attempt
  EXPECT_EQ(t.crashes, 0);   // reset with the outcome
  // The quarantine observed/applied nothing; the rollback only removed.
  EXPECT_EQ(Calls("poison", "gamma", "apply") + Calls("poison", "gamma", "observe"), gamma_calls);
  EXPECT_GE(Calls("poison", "gamma", "remove"), 1);
  EXPECT_FALSE(std::filesystem::exists(Target("poison", "gamma")));
}

TEST_F(LifecycleTest, AParkedPoisonTenantEndsFailedWithoutCallingTheStepAgain) {
  engine_.max_tenant_attempts = 2;
  engine_.failure_policy = FailurePolicy::kPark;
  Add("parked");
  Sql("SET session_replication_role = replica; UPDATE matih.tenants SET status = 'PROVISIONING', attempts = "
      "2, "
      "crashes = 1, lease_owner = 'dead:9', lease_expires_at = now() - interval '1 second' WHERE slug = "
      "'parked'");
  // Never claimed before, so it has no step rows yet (a missing row is PENDING): beta's is made.
  Sql("INSERT INTO matih.tenant_steps (tenant_id, step_number, step_name, phase, status) "
      "SELECT id, 2, 'beta', 0, 'RUNNING' FROM matih.tenants WHERE slug = 'parked'");
  RunSummary run = RunOk();
  ASSERT_EQ(run.tenants.size(), 1u);
  EXPECT_EQ(run.tenants[0].outcome, "failed");
  TenantRecord t = Tenant("parked");
  EXPECT_EQ(t.status, S::kFailed);
  EXPECT_NE(t.last_error.find("crashed 2 times in step 2 beta"), std::string::npos) << t.last_error;
  EXPECT_EQ(Calls("parked", "beta", "apply"), 0);
}

TEST_F(LifecycleTest, ADriftPassThatKilledItsRunnerMaxAttemptsTimesIsPausedAndTheTenantStaysActive) {
  engine_.max_tenant_attempts = 2;
  Add("steady");
  RunOk();
  ASSERT_EQ(Tenant("steady").status, S::kActive);
  const int observes = Calls("steady", "gamma", "observe");
  // Two drift passes died holding the lease (the second takeover counted the first crash).
  Sql("UPDATE matih.tenants SET crashes = 1, lease_owner = 'dead:7', lease_expires_at = now() - interval '1 "
      "second', "
      "last_reconciled_at = now() - interval '2 days' WHERE slug = 'steady'");
  RunSummary run = RunOk();
  ASSERT_EQ(run.tenants.size(), 1u);
  EXPECT_EQ(run.tenants[0].outcome, "drift_failed");
  TenantRecord t = Tenant("steady");
  EXPECT_EQ(t.status, S::kActive);
  EXPECT_NE(t.last_error.find("drift pass crashed 2 times"), std::string::npos) << t.last_error;
  EXPECT_EQ(t.crashes, 0);
  EXPECT_EQ(Calls("steady", "gamma", "observe"), observes) << "the paused pass observed nothing";
  EXPECT_EQ(CountEvents("steady", "drift.paused"), 1);
  EXPECT_EQ(
      Value(
          "SELECT next_attempt_at > now() + interval '30 minutes' FROM matih.tenants WHERE slug = 'steady'"),
      "t");
  // One crash only: the drift pass runs, and its outcome resets the count.
  Sql("UPDATE matih.tenants SET next_attempt_at = now(), lease_owner = 'dead:8', "
      "lease_expires_at = now() - interval '1 second', last_reconciled_at = now() - interval '2 days' "
      "WHERE slug = 'steady'");
  RunSummary again = RunOk();
  EXPECT_EQ(again.tenants[0].outcome, "in_sync");
  EXPECT_EQ(Tenant("steady").crashes, 0);
}

TEST_F(LifecycleTest, ATransientFailureStillGetsMaxAttemptsRunsBeforeThePolicy) {
  engine_.max_tenant_attempts = 2;
  engine_.tenant_backoff.initial_backoff = Millis(0);
  engine_.tenant_backoff.max_backoff = Millis(0);
  UseCatalog({{"gamma", "{fail: transient}"}}, "{attempts: 1, initial_backoff: 10ms, max_backoff: 10ms}");
  Add("flaky");
  RunSummary first = RunOk();
  EXPECT_EQ(first.tenants[0].outcome, "retry_later");
  EXPECT_EQ(Tenant("flaky").attempts, 1);
  Sql("UPDATE matih.tenants SET next_attempt_at = now() WHERE slug = 'flaky'");
  RunSummary second = RunOk();
  EXPECT_EQ(second.tenants[0].outcome, "rolled_back");
  EXPECT_EQ(Tenant("flaky").crashes, 0);
}

TEST_F(LifecycleTest, OnboardingAndRetriesAreClaimedBeforeDriftAndDriftOldestFirst) {
  Add("old");
  Add("older");
  Add("recent");
  RunOk();
  Sql("UPDATE matih.tenants SET last_reconciled_at = now() - interval '3 days' WHERE slug = 'old'");
  Sql("UPDATE matih.tenants SET last_reconciled_at = now() - interval '5 days' WHERE slug = 'older'");
  Sql("UPDATE matih.tenants SET last_reconciled_at = now() - interval '2 days' WHERE slug = 'recent'");
  Add("newcomer");
  auto claimed = Claim("r:1", "");
  std::vector<std::string> order;
  for (const auto& c : claimed) order.push_back(c.tenant.slug);
  EXPECT_EQ(order, (std::vector<std::string>{"newcomer", "older", "old", "recent"}));
  // With room for two: the newcomer and the oldest reconciliation.
  Sql("UPDATE matih.tenants SET lease_owner = NULL, lease_expires_at = NULL");
  auto two = Claim("r:2", "", 2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].tenant.slug, "newcomer");
  EXPECT_EQ(two[1].tenant.slug, "older");
  // The drift claim counts no attempt.
  EXPECT_EQ(Tenant("older").attempts, 0);
}

TEST_F(LifecycleTest, EachClaimIsAnIndexScanAtOneHundredThousandTenantsAndCountsUseGroupBy) {
  Sql("INSERT INTO matih.tenants (slug, tier, region, admin_email, status, last_reconciled_at, "
      "observed_generation) "
      "SELECT 'bulk-' || g, 'free', 'eastus', 'a@b.example', "
      "  (ARRAY['ACTIVE','ACTIVE','ACTIVE','ACTIVE','ACTIVE','ACTIVE','FAILED','SUSPENDED','PENDING',"
      "         'DELETED'])[1 + g % 10], now() - (g % 1000) * interval '1 minute', 1 "
      "FROM generate_series(1, 100000) g");
  Sql("ANALYZE matih.tenants");
  pqxx::connection c(db_->url());
  pqxx::nontransaction tx(c);
  for (const std::string& select : ClaimQuery::ClaimSelects(50, Millis(86'400'000))) {
    std::string plan;
    for (const auto& row : tx.exec("EXPLAIN " + select)) plan += row[0].as<std::string>() + "\n";
    EXPECT_EQ(plan.find("Seq Scan"), std::string::npos) << select << "\n" << plan;
    EXPECT_NE(plan.find("Index Scan using tenants_claim_"), std::string::npos) << select << "\n" << plan;
  }
  auto counts = TenantStore(*database_).CountByStatus();
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ((*counts)["ACTIVE"], 60000);
  EXPECT_EQ((*counts)["PENDING"], 10000);
  EXPECT_EQ((*counts)["DELETED"], 10000);
  EXPECT_EQ((*counts)["UPGRADING"], 0);
}

TEST_F(LifecycleTest, TheProvisioningDeadlineCountsFromTheFirstClaimAcrossRuns) {
  engine_.provisioning_deadline = Millis(30 * 60 * 1000);
  Add("slow");
  // An earlier run claimed it 40 minutes ago and died.
  Sql("SET session_replication_role = replica; UPDATE matih.tenants SET status = 'PROVISIONING', attempts = "
      "1, "
      "first_claimed_at = now() - interval '40 minutes' WHERE slug = 'slow'");
  RunSummary run = RunOk();
  ASSERT_EQ(run.tenants.size(), 1u);
  TenantRecord t = Tenant("slow");
  EXPECT_NE(t.last_error.find("provisioning deadline of"), std::string::npos) << t.last_error;
  EXPECT_EQ(Calls("slow", "alpha", "apply"), 0);
  // A fresh tenant gets the whole deadline, and success clears the clock.
  Add("fresh");
  RunOk();
  EXPECT_EQ(Tenant("fresh").status, S::kActive);
  EXPECT_EQ(Value("SELECT first_claimed_at FROM matih.tenants WHERE slug = 'fresh'"), "");
  // An upgrade's clock starts at its claim; a drift pass starts none.
  Sql("UPDATE matih.tenants SET last_reconciled_at = now() - interval '2 days' WHERE slug = 'fresh'");
  ASSERT_EQ(Claim("r:drift", "").size(), 1u);
  EXPECT_EQ(Value("SELECT first_claimed_at FROM matih.tenants WHERE slug = 'fresh'"), "");
  Sql("UPDATE matih.tenants SET lease_owner = NULL, lease_expires_at = NULL, generation = generation + 1 "
      "WHERE slug = 'fresh'");
  ASSERT_EQ(Claim("r:upgrade", "").size(), 1u);
  EXPECT_NE(Value("SELECT first_claimed_at FROM matih.tenants WHERE slug = 'fresh'"), "");
}

TEST_F(LifecycleTest, AHeartbeatThatCannotRenewTheLeaseCancelsTheWorkBeforeTheLeaseEndsAndWritesNothing) {
  UseCatalog({{"gamma", "{hang_ms: 6000}"}});
  Add("held");
  std::atomic<bool> locked{false}, run_done{false};
  std::string before;
  std::thread locker([&] {
    // Wait until gamma runs, then hold the tenant row: the heartbeat cannot renew the lease.
    pqxx::connection c(db_->url());
    for (int i = 0; i < 200; ++i) {
      pqxx::nontransaction q(c);
      if (q.exec("SELECT 1 FROM matih.tenant_steps WHERE step_name = 'gamma' AND status = 'RUNNING'").size())
        break;
      std::this_thread::sleep_for(10ms);
    }
    pqxx::work tx(c);
    tx.exec("SELECT 1 FROM matih.tenants WHERE slug = 'held' FOR UPDATE");
    before = tx.exec(
                   "SELECT string_agg(step_name || ':' || status, ',' ORDER BY step_number) FROM "
                   "matih.tenant_steps")[0][0]
                 .as<std::string>();
    locked = true;
    // Held until the run returns (a write of the runner would wait here: at most 4 s).
    for (int i = 0; i < 400 && !run_done; ++i) std::this_thread::sleep_for(10ms);
    tx.commit();
  });
  RunOptions o;
  o.lease = Millis(1500);
  o.heartbeat = Millis(300);
  auto started = std::chrono::steady_clock::now();
  RunSummary run = RunOk(o);
  const auto took = std::chrono::steady_clock::now() - started;
  run_done = true;
  locker.join();
  ASSERT_TRUE(locked.load());
  ASSERT_EQ(run.tenants.size(), 1u);
  EXPECT_EQ(run.tenants[0].outcome, "lease_lost") << run.tenants[0].error;
  // Cancelled within lease - margin of the last renewal, long before gamma's 6 s, while the row
  // was still locked (a write would have waited for the lock, past 4 s).
  EXPECT_LT(took, 3500ms);
  EXPECT_FALSE(std::filesystem::exists(Target("held", "gamma"))) << "gamma's apply finished after the cancel";
  // Nothing was written after the lock: the steps are as they were, gamma still RUNNING.
  EXPECT_EQ(Value("SELECT string_agg(step_name || ':' || status, ',' ORDER BY step_number) FROM "
                  "matih.tenant_steps"),
            before);
  EXPECT_NE(before.find("gamma:RUNNING"), std::string::npos) << before;
  EXPECT_EQ(Tenant("held").status, S::kProvisioning);
}

TEST_F(LifecycleTest, AStatementErrorThatLibpqxxReportsAsABrokenConnectionIsNotWaitedFor) {
  DbLink link(*database_, Millis(10'000));
  auto started = std::chrono::steady_clock::now();
  int calls = 0;
  Status s = link.Retry([&](pqxx::connection& c) {
    ++calls;
    return Guard("bad bind", [&] {
      pqxx::work tx(c);
      tx.exec_params("SELECT $1::int", 1, 2);  // two parameters for one
      return Status::Ok();
    });
  });
  EXPECT_EQ(s.code(), Code::kInternal) << s.ToString();
  EXPECT_EQ(calls, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(link.reconnects(), 0);
}

TEST_F(LifecycleTest, ADatabaseLostMidRunIsReconnectedAndTheTenantFinishes) {
  auto [host, port] = HostPort(db_->url());
  ASSERT_GT(port, 0) << "cannot read host and port from " << db_->url();
  Relay relay(host, port);
  Database through(ThroughRelay(db_->url(), relay.port()));
  UseCatalog({{"gamma", "{hang_ms: 800}"}});
  Add("survivor");
  std::thread outage([&] {
    std::this_thread::sleep_for(300ms);
    relay.Cut();
    std::this_thread::sleep_for(1500ms);
    relay.Restore();
  });
  RunOptions o;
  o.db_reconnect = Millis(10'000);
  auto run = RunOn(through, o);
  outage.join();
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(run->tenants.size(), 1u);
  EXPECT_EQ(run->tenants[0].outcome, "active") << run->tenants[0].error;
  EXPECT_FALSE(run->database_lost);
  EXPECT_EQ(Tenant("survivor").status, S::kActive);
  EXPECT_TRUE(finish_.ok()) << finish_.ToString();
  EXPECT_EQ(Value("SELECT exit_code FROM matih.runs WHERE id = '" + last_run_id_ + "'"), "0");
}

TEST_F(LifecycleTest, ADatabaseGoneLongerThanTheBoundLeavesTheTenantToItsLeaseAndRecordsExitFour) {
  auto [host, port] = HostPort(db_->url());
  ASSERT_GT(port, 0);
  Relay relay(host, port);
  Database through(ThroughRelay(db_->url(), relay.port()));
  UseCatalog({{"gamma", "{hang_ms: 600}"}});
  Add("stranded");
  std::thread outage([&] {
    std::this_thread::sleep_for(200ms);
    relay.Cut();
  });
  // The database comes back only after the run gave up, in time for its exit code.
  before_finish_ = [&] { relay.Restore(); };
  RunOptions o;
  o.db_reconnect = Millis(1'000);
  auto started = std::chrono::steady_clock::now();
  auto run = RunOn(through, o);
  outage.join();
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5000ms);
  ASSERT_EQ(run->tenants.size(), 1u);
  EXPECT_TRUE(run->database_lost);
  EXPECT_EQ(run->tenants[0].outcome, "error");
  // Left to its lease: still PROVISIONING and still leased by the run that gave up.
  TenantRecord t = Tenant("stranded");
  EXPECT_EQ(t.status, S::kProvisioning);
  EXPECT_FALSE(t.lease_owner.empty());
  // The exit code reached the database once it was back.
  EXPECT_TRUE(finish_.ok()) << finish_.ToString();
  EXPECT_EQ(Value("SELECT exit_code FROM matih.runs WHERE id = '" + last_run_id_ + "'"), "4");
}

// A connection lost while a session's commit is in flight leaves its outcome in doubt; the flush
// runs again on a new connection. When the commit went through, its audit events are not
// appended a second time and the chain still verifies.
TEST_F(LifecycleTest, AFlushWhoseCommitWasCutInDoubtNeverAppendsItsAuditEventsTwice) {
  auto [host, port] = HostPort(db_->url());
  ASSERT_GT(port, 0);
  Relay relay(host, port);
  Database through(ThroughRelay(db_->url(), relay.port()));
  UseCatalog();
  Add("doubtful");
  auto claimed = Claim("runner-a", "run-a", 1);
  ASSERT_EQ(claimed.size(), 1u);
  const std::string id = claimed[0].lease.tenant_id;
  DbLink link(through, Millis(5'000));
  ASSERT_TRUE(link.Open().ok());
  TenantSession session(link, claimed[0].lease, claimed[0].tenant.status, "run-a", "runner-a");
  StepRecord rec;
  rec.number = 1;
  rec.name = "alpha";
  rec.status = StepStatus::kRunning;
  session.SetStep(rec);
  AuditEvent started;
  started.event = "step.started";
  started.step_number = 1;
  started.step_name = "alpha";
  session.Audit(started);

  relay.CutAfterCommit();
  Status s = session.Flush();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(link.reconnects(), 1) << "the connection was cut with the commit in doubt";
  EXPECT_EQ(Value("SELECT count(*) FROM matih.audit_events WHERE tenant_id = '" + id +
                  "' AND event = 'step.started' AND run_id = 'run-a'"),
            "1");
  EXPECT_EQ(Value("SELECT status FROM matih.tenant_steps WHERE tenant_id = '" + id + "' AND step_number = 1"),
            "RUNNING");
  auto problems = AuditLog::Verify(*database_, std::nullopt);
  ASSERT_TRUE(problems.ok()) << problems.status().ToString();
  EXPECT_TRUE(problems->empty()) << problems->front().what;

  // A later flush of the same session goes on from the same chain.
  AuditEvent finished = started;
  finished.event = "step.finished";
  session.Audit(finished);
  ASSERT_TRUE(session.Flush().ok());
  EXPECT_EQ(
      Value("SELECT count(*) FROM matih.audit_events WHERE tenant_id = '" + id + "' AND run_id = 'run-a'"),
      "2");
}

// A drift pass over in-sync tenants: their writes share one commit per worker batch, each tenant
// still gets its "tenant.claimed" event, its row's bookkeeping and a released lease, and every
// chain verifies.
TEST_F(LifecycleTest, ADriftPassOverInSyncTenantsCommitsPerBatchAndEveryChainVerifies) {
  UseCatalog();
  const std::vector<std::string> slugs = {"sync-a", "sync-b", "sync-c", "sync-d", "sync-e", "sync-f"};
  for (const auto& slug : slugs) Add(slug);
  RunOk();
  engine_.commit_interval = Millis(60'000);  // one batch per worker
  Sql("UPDATE matih.tenants SET last_reconciled_at = now() - interval '2 days'");
  RunOptions options;
  options.workers = 2;
  options.mode = ClaimMode::kDriftOnly;
  auto ran = RunOn(*database_, options);
  ASSERT_TRUE(ran.ok()) << ran.status().ToString();
  const RunSummary& pass = *ran;
  ASSERT_FALSE(last_run_id_.empty());
  ASSERT_EQ(pass.tenants.size(), slugs.size());
  for (const auto& t : pass.tenants) {
    EXPECT_EQ(t.outcome, "in_sync") << t.slug << ": " << t.error;
    EXPECT_EQ(t.commits, 1) << t.slug;
  }
  const std::string run = "'" + last_run_id_ + "'";
  EXPECT_LE(
      std::stoi(Value("SELECT count(DISTINCT xmin::text) FROM matih.audit_events WHERE run_id = " + run)), 2)
      << "one commit per worker's batch, not one per tenant";
  EXPECT_EQ(
      Value("SELECT count(*) FROM matih.audit_events WHERE event = 'tenant.claimed' AND run_id = " + run),
      std::to_string(slugs.size()));
  EXPECT_EQ(Value("SELECT count(*) FROM matih.audit_events WHERE run_id = " + run),
            std::to_string(slugs.size()));
  EXPECT_EQ(
      Value("SELECT count(*) FROM matih.tenants WHERE lease_owner IS NOT NULL OR lease_expires_at IS NOT "
            "NULL OR last_reconciled_at < now() - interval '1 hour' OR last_error IS NOT NULL"),
      "0");
  auto problems = AuditLog::Verify(*database_, std::nullopt);
  ASSERT_TRUE(problems.ok()) << problems.status().ToString();
  EXPECT_TRUE(problems->empty()) << problems->front().what;
}

// The batch's fence: a tenant whose lease was taken while its writes were held is answered
// lease lost and nothing of it is written; the others of the batch are written.
TEST_F(LifecycleTest, AnInSyncTenantWhoseLeaseWasTakenWhileHeldIsLeaseLostAndNothingOfItIsWritten) {
  UseCatalog();
  Add("kept");
  Add("taken");
  RunOk();
  Sql("UPDATE matih.tenants SET last_reconciled_at = now() - interval '2 days', last_error = 'old'");
  auto claimed = Claim("runner-a", "run-a");
  ASSERT_EQ(claimed.size(), 2u);
  InSyncBatch batch("run-a", "runner-a");
  for (size_t i = 0; i < claimed.size(); ++i) {
    AuditEvent e;
    e.event = "tenant.claimed";
    e.details = {{"epoch", claimed[i].lease.epoch}};
    batch.Add({claimed[i].lease, claimed[i].tenant.generation, {e}}, static_cast<int>(i));
  }
  const std::string before = Value("SELECT audit_head FROM matih.tenants WHERE slug = 'taken'");
  Sql("UPDATE matih.tenants SET lease_owner = 'runner-b', lease_epoch = lease_epoch + 1 WHERE slug = "
      "'taken'");
  DbLink link(*database_, Millis(5'000));
  auto answers = batch.Commit(link);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_TRUE(batch.empty());
  for (const auto& a : answers) {
    const std::string slug = claimed[a.tag].tenant.slug;
    if (slug == "taken") {
      EXPECT_EQ(a.status.reason(), Reason::kLeaseLost) << a.status.ToString();
    } else {
      EXPECT_TRUE(a.status.ok()) << a.status.ToString();
    }
  }
  EXPECT_EQ(Value("SELECT count(*) FROM matih.audit_events e JOIN matih.tenants t ON t.id = e.tenant_id "
                  "WHERE e.run_id = 'run-a' AND t.slug = 'taken'"),
            "0");
  EXPECT_EQ(Value("SELECT audit_head FROM matih.tenants WHERE slug = 'taken'"), before);
  EXPECT_EQ(Value("SELECT lease_owner || ' ' || coalesce(last_error, '') || ' ' || "
                  "(last_reconciled_at < now() - interval '1 day') FROM matih.tenants WHERE slug = 'taken'"),
            "runner-b old true");
  EXPECT_EQ(Value("SELECT coalesce(lease_owner, 'none') || ' ' || coalesce(last_error, 'none') || ' ' || "
                  "(last_reconciled_at > now() - interval '1 hour') FROM matih.tenants WHERE slug = 'kept'"),
            "none none true");
  EXPECT_EQ(CountEvents("kept", "tenant.claimed"), 2);  // the onboarding run's and this one
  auto problems = AuditLog::Verify(*database_, std::nullopt);
  ASSERT_TRUE(problems.ok()) << problems.status().ToString();
  EXPECT_TRUE(problems->empty()) << problems->front().what;
}

// A batch commit cut with its outcome in doubt is found written and is not appended twice.
TEST_F(LifecycleTest, AnInSyncBatchWhoseCommitWasCutInDoubtNeverAppendsItsEventsTwice) {
  auto [host, port] = HostPort(db_->url());
  ASSERT_GT(port, 0);
  Relay relay(host, port);
  Database through(ThroughRelay(db_->url(), relay.port()));
  UseCatalog();
  Add("doubtful");
  RunOk();
  Sql("UPDATE matih.tenants SET last_reconciled_at = now() - interval '2 days'");
  auto claimed = Claim("runner-a", "run-a", 1);
  ASSERT_EQ(claimed.size(), 1u);
  InSyncBatch batch("run-a", "runner-a");
  AuditEvent e;
  e.event = "tenant.claimed";
  batch.Add({claimed[0].lease, claimed[0].tenant.generation, {e}}, 7);
  DbLink link(through, Millis(5'000));
  ASSERT_TRUE(link.Open().ok());
  relay.CutAfterCommit();
  auto answers = batch.Commit(link);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].tag, 7);
  EXPECT_TRUE(answers[0].status.ok()) << answers[0].status.ToString();
  EXPECT_EQ(link.reconnects(), 1) << "the connection was cut with the commit in doubt";
  EXPECT_EQ(Value("SELECT count(*) FROM matih.audit_events WHERE run_id = 'run-a'"), "1");
  EXPECT_EQ(Value("SELECT count(*) FROM matih.tenants WHERE slug = 'doubtful' AND lease_owner IS NULL"), "1");
  auto problems = AuditLog::Verify(*database_, std::nullopt);
  ASSERT_TRUE(problems.ok()) << problems.status().ToString();
  EXPECT_TRUE(problems->empty()) << problems->front().what;
}

}  // namespace
}  // namespace matih::testing
