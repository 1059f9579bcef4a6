// The lifecycle through the real binary: runners SIGKILLed mid-step are counted and the poison
// tenant is quarantined with the reason; every run records its exit code (4 when the database
// was lost past run.db_reconnect); `run --tenant` on an unclaimable tenant says why and records
// nothing; resume of a deletion returns the old status; a PENDING tenant can be cancelled.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "cli_fixture.h"
#include "runner/tcp_relay.h"

namespace matih::testing {
namespace {

using namespace std::chrono_literals;

class CliLifecycleTest : public CliTest {
 protected:
  // Starts `matih-provisioner --config <config> args...` without waiting for it.
  pid_t Spawn(const std::vector<std::string>& args, const std::string& config) {
    std::vector<std::string> all{MATIH_PROVISIONER_BIN, "--config", config};
    all.insert(all.end(), args.begin(), args.end());
    pid_t pid = fork();
    if (pid == 0) {
      if (chdir(dir_.c_str()) != 0) _exit(127);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      std::vector<char*> argv;
      for (auto& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      std::string path = "PATH=" + std::string(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
      char* envp[] = {path.data(), nullptr};
      execve(argv[0], argv.data(), envp);
      _exit(127);
    }
    return pid;
  }
  // Polls until `sql` returns `want`, for at most `within`.
  bool WaitFor(const std::string& sql, const std::string& want, std::chrono::milliseconds within = 10s) {
    auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
      if (Query(sql) == want) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  std::string StepStatus(const std::string& slug, int number) {
    return Query(
        "SELECT s.status FROM matih.tenant_steps s JOIN matih.tenants t ON t.id = s.tenant_id "
        "WHERE t.slug = '" +
        slug + "' AND s.step_number = " + std::to_string(number));
  }
};

TEST_F(CliLifecycleTest, RunnersKilledMidStepAreCountedAndThePoisonTenantIsParkedWithTheReason) {
  WriteCatalog({{2, "{hang_ms: 30000}"}});
  config_ = WriteConfig("\n[run]\nmax_attempts = 2\nfailure_policy = park\n");
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("poison"));
  for (int kill = 1; kill <= 2; ++kill) {
    pid_t pid = Spawn({"run"}, config_);
    ASSERT_GT(pid, 0);
    // This runner's intent for step 2 is durable (its own step.started), then it hangs in apply.
    bool running =
        WaitFor("SELECT count(*) FROM matih.audit_events WHERE event = 'step.started' AND step_number = 2",
                std::to_string(kill));
    std::this_thread::sleep_for(100ms);
    ::kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(running) << "step 2 never ran (kill " << kill << ")";
    // The step shown RUNNING is the one that was running; the one before it is DONE.
    EXPECT_EQ(StepStatus("poison", 1), "DONE");
    EXPECT_EQ(StepStatus("poison", 2), "RUNNING");
    EXPECT_EQ(Query("SELECT attempts FROM matih.tenants WHERE slug = 'poison'"), std::to_string(kill));
    // The runner is gone; its lease runs out.
    db_->Exec(
        "UPDATE matih.tenants SET lease_expires_at = now() - interval '1 second' WHERE slug = 'poison'");
  }
  CliResult r = Cli({"run"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_EQ(TenantStatus("poison"), "FAILED");
  EXPECT_NE(Query("SELECT last_error FROM matih.tenants WHERE slug = 'poison'")
                .find("crashed 2 times in step 2 create-tenant-record: the runner was lost"),
            std::string::npos)
      << Query("SELECT last_error FROM matih.tenants WHERE slug = 'poison'");
  // The quarantine called no step: the step that crashed twice was not run a third time.
  EXPECT_EQ(StepStatus("poison", 2), "RUNNING");
  // The two dead runs were closed when their leases were taken over; the last one has its exit code.
  EXPECT_EQ(Query("SELECT count(*) FROM matih.runs WHERE finished_at IS NOT NULL AND exit_code IS NULL "
                  "AND closed_reason LIKE 'the runner was lost; its lease was taken over by run %'"),
            "2");
  EXPECT_EQ(Query("SELECT string_agg(exit_code::text, ',') FROM matih.runs WHERE exit_code IS NOT NULL"),
            "3");
  EXPECT_EQ(Query("SELECT count(*) FROM matih.runs WHERE finished_at IS NULL"), "0");
}

TEST_F(CliLifecycleTest, EveryRunRecordsItsExitCode) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("acme"));
  CliResult ok = Cli({"run"});
  ASSERT_EQ(ok.exit_code, 0) << Describe(ok);
  CliResult idle = Cli({"run"});
  ASSERT_EQ(idle.exit_code, 0) << Describe(idle);
  EXPECT_EQ(Query("SELECT string_agg(exit_code::text, ',' ORDER BY started_at) FROM matih.runs"), "0,0");
  EXPECT_EQ(Query("SELECT count(*) FROM matih.runs WHERE finished_at IS NULL"), "0");
}

TEST_F(CliLifecycleTest, RunOfATenantThatCannotBeClaimedSaysWhyAndRecordsNoRun) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddActiveTenant("acme"));
  CliResult s = Cli({"suspend", "acme"});
  ASSERT_EQ(s.exit_code, 0) << Describe(s);
  const std::string runs = Query("SELECT count(*) FROM matih.runs");
  CliResult r = Cli({"run", "--tenant", "acme"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("tenant 'acme' cannot be claimed now: it is SUSPENDED"), std::string::npos)
      << Describe(r);
  EXPECT_EQ(Query("SELECT count(*) FROM matih.runs"), runs);
  // Leased by another runner: named, with the lease's end.
  db_->Exec("UPDATE matih.tenants SET status = 'ACTIVE' WHERE slug = 'acme'");
  db_->Exec(
      "UPDATE matih.tenants SET lease_owner = 'other-host:42', lease_expires_at = now() + interval '1 hour' "
      "WHERE slug = 'acme'");
  CliResult leased = Cli({"run", "--tenant", "acme"});
  EXPECT_EQ(leased.exit_code, 2) << Describe(leased);
  EXPECT_NE(leased.err.find("it is leased by runner other-host:42 until"), std::string::npos)
      << Describe(leased);
  EXPECT_EQ(Query("SELECT count(*) FROM matih.runs"), runs);
}

TEST_F(CliLifecycleTest, ResumeOfAPendingDeletionReturnsTheStatusItHadBeforeDelete) {
  WriteCatalog({{2, "{fail: permanent}"}});
  config_ = WriteConfig("\n[run]\nfailure_policy = park\n");
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("broken"));
  CliResult run = Cli({"run"});
  ASSERT_EQ(run.exit_code, 3) << Describe(run);
  ASSERT_EQ(TenantStatus("broken"), "FAILED");
  CliResult del = Cli({"delete", "broken", "--grace", "1h"});
  ASSERT_EQ(del.exit_code, 0) << Describe(del);
  ASSERT_EQ(TenantStatus("broken"), "PENDING_DELETION");
  CliResult resume = Cli({"resume", "broken"});
  EXPECT_EQ(resume.exit_code, 0) << Describe(resume);
  EXPECT_EQ(TenantStatus("broken"), "FAILED") << "a FAILED tenant must not become ACTIVE unprovisioned";
  EXPECT_NE(resume.out.find("FAILED again"), std::string::npos) << Describe(resume);
  // A suspended tenant goes back to SUSPENDED, an active one to ACTIVE.
  WriteCatalog();
  ASSERT_NO_FATAL_FAILURE(AddActiveTenant("calm"));
  ASSERT_EQ(Cli({"suspend", "calm"}).exit_code, 0);
  ASSERT_EQ(Cli({"delete", "calm"}).exit_code, 0);
  ASSERT_EQ(Cli({"resume", "calm"}).exit_code, 0);
  EXPECT_EQ(TenantStatus("calm"), "SUSPENDED");
  ASSERT_EQ(Cli({"resume", "calm"}).exit_code, 0);
  ASSERT_EQ(Cli({"delete", "calm"}).exit_code, 0);
  ASSERT_EQ(Cli({"resume", "calm"}).exit_code, 0);
  EXPECT_EQ(TenantStatus("calm"), "ACTIVE");
}

TEST_F(CliLifecycleTest, APendingTenantIsCancelledWithoutProvisioning) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("early"));
  ASSERT_NO_FATAL_FAILURE(AddTenant("later"));
  CliResult c = Cli({"cancel", "early"});
  EXPECT_EQ(c.exit_code, 0) << Describe(c);
  EXPECT_EQ(TenantStatus("early"), "DELETED");
  CliResult d = Cli({"delete", "later"});
  EXPECT_EQ(d.exit_code, 0) << Describe(d);
  EXPECT_EQ(TenantStatus("later"), "DELETED");
  CliResult run = Cli({"run"});
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_NE(run.out.find("no tenant was due"), std::string::npos) << Describe(run);
  // No step made its target (`tenants add` asked step 1's observe, which only counts its call).
  for (const char* slug : {"early", "later"})
    for (const char* step : {"validate-request", "create-tenant-record", "activate-tenant"})
      EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(state_dir_) / slug / step))
          << slug << "/" << step;
  EXPECT_EQ(Query("SELECT count(*) FROM matih.audit_events WHERE event = 'operator.cancel'"), "2");
  // Only a PENDING tenant is cancelled.
  ASSERT_NO_FATAL_FAILURE(AddActiveTenant("live"));
  CliResult refused = Cli({"cancel", "live"});
  EXPECT_EQ(refused.exit_code, 2) << Describe(refused);
  EXPECT_NE(refused.err.find("only a PENDING tenant can be cancelled"), std::string::npos)
      << Describe(refused);
  EXPECT_EQ(TenantStatus("live"), "ACTIVE");
}

TEST_F(CliLifecycleTest, ADatabaseLostMidRunIsWaitedForOrTheRunExitsFourAndRecordsIt) {
  auto [host, port] = HostPort(db_->url());
  ASSERT_GT(port, 0) << db_->url();
  Relay relay(host, port);
  WriteCatalog({{2, "{hang_ms: 1200}"}});
  const std::string url = ThroughRelay(db_->url(), relay.port());
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("patient"));
  ASSERT_NO_FATAL_FAILURE(AddTenant("stranded"));
  // An outage shorter than run.db_reconnect: the run reconnects and finishes.
  std::string patient = WriteConfig("\n[run]\ndb_reconnect = 20s\n", "patient.conf");
  db_->Exec("UPDATE matih.tenants SET next_attempt_at = now() + interval '1 hour' WHERE slug = 'stranded'");
  std::thread outage([&] {
    WaitFor("SELECT count(*) FROM matih.tenant_steps WHERE status = 'RUNNING' AND step_number = 2", "1");
    relay.Cut();
    std::this_thread::sleep_for(2000ms);
    relay.Restore();
  });
  CliResult r = cli_.Run({"--config", patient, "--database-url", url, "run"}, {}, dir_);
  outage.join();
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(TenantStatus("patient"), "ACTIVE");
  // Longer than the bound: exit 4, the tenant left to its lease, the exit code recorded once the
  // database is back.
  db_->Exec("UPDATE matih.tenants SET next_attempt_at = now() WHERE slug = 'stranded'");
  std::string impatient = WriteConfig("\n[run]\ndb_reconnect = 1s\n", "impatient.conf");
  std::thread longer([&] {
    WaitFor("SELECT count(*) FROM matih.tenant_steps WHERE status = 'RUNNING' AND step_number = 2", "1");
    relay.Cut();
    // Back after the run gave up (step 2 ends at 1.2 s, then 1 s of reconnecting), within the
    // second of reconnecting its end record gets, so that the exit code is recorded.
    std::this_thread::sleep_for(3000ms);
    relay.Restore();
  });
  CliResult gone = cli_.Run({"--config", impatient, "--database-url", url, "run"}, {}, dir_);
  longer.join();
  EXPECT_EQ(gone.exit_code, 4) << Describe(gone);
  EXPECT_NE(gone.err.find("run.db_reconnect"), std::string::npos) << Describe(gone);
  EXPECT_EQ(TenantStatus("stranded"), "PROVISIONING");
  EXPECT_NE(Query("SELECT lease_owner FROM matih.tenants WHERE slug = 'stranded'"), "");
  EXPECT_EQ(Query("SELECT string_agg(exit_code::text, ',' ORDER BY started_at) FROM matih.runs"), "0,4");
}

}  // namespace
}  // namespace matih::testing
