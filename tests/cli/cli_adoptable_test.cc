// Late commits of adoptable steps (MATIH_KIND_ADOPTABLE, run.commit_interval) through the real
// binary: a runner SIGKILLed while the intents and results of adoptable steps wait for their
// commit loses only those rows; the next run observes the files the lost applies wrote, adopts
// them without applying again, converges every tenant, and the audit chain verifies. And the
// commits of an onboarding fall below one per step.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli_fixture.h"

namespace matih::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const char* const kSlugs[] = {"alpha", "beta", "gamma"};
const std::string kTiers = "[free, starter, professional, enterprise]";

class CliAdoptableTest : public CliTest {
 protected:
  // Step 1 is test.file (not adoptable: its intent is committed before it runs); steps 2-7 are
  // test.adopted_file in phase 1, step 7 hanging `hang_ms` in apply; step 8 ends the flow.
  void WriteAdoptableCatalog(int hang_ms) {
    std::string yaml =
        "version: 1\n"
        "phases: {0: validation, 1: control-plane, 8: finalization}\n"
        "flows:\n"
        "  free:         {placement: shared,    phases: [0, 1, 8]}\n"
        "  starter:      {placement: shared,    phases: [0, 1, 8]}\n"
        "  professional: {placement: dedicated, phases: [0, 1, 8]}\n"
        "  enterprise:   {placement: dedicated, phases: [0, 1, 8]}\n"
        "defaults:\n"
        "  retry: {attempts: 1, initial_backoff: 10ms, max_backoff: 10ms}\n"
        "  timeout: 10s\n"
        "steps:\n"
        "  - {number: 1, name: validate-request, phase: 0, kind: test.file, tiers: " +
        kTiers + ", params: {value: ok}}\n";
    for (int n = 2; n <= 7; ++n) {
      yaml += "  - {number: " + std::to_string(n) + ", name: adopt-" + std::to_string(n) +
              ", phase: 1, kind: test.adopted_file, tiers: " + kTiers + ", params: {value: ok" +
              (n == 7 ? ", hang_ms: " + std::to_string(hang_ms) : std::string()) +
              (n == 3 ? ", output: endpoint, output_value: " + step3_output_ + ", observe_output: true"
                      : std::string()) +
              "}}\n";
    }
    yaml += "  - {number: 8, name: activate-tenant, phase: 8, kind: test.adopted_file, tiers: " + kTiers +
            ", params: {value: ok}}\n";
    catalog_ = WriteFile("catalog.yaml", yaml);
  }

  pid_t Spawn(const std::vector<std::string>& args) {
    std::vector<std::string> all{MATIH_PROVISIONER_BIN, "--config", config_};
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

  // How many times `op` of step `step` ran for tenant `slug` (test.file's own counter); 0 when never.
  int Calls(const std::string& slug, const std::string& step, const std::string& op) const {
    std::ifstream in(fs::path(state_dir_) / slug / (step + "." + op + ".calls"));
    int n = 0;
    in >> n;
    return n;
  }
  std::string StepName(int n) const { return n == 8 ? "activate-tenant" : "adopt-" + std::to_string(n); }
  std::string Step3Endpoint(const std::string& slug) const {
    return Query(
        "SELECT s.outputs->>'endpoint' FROM matih.tenant_steps s JOIN matih.tenants t "
        "ON t.id = s.tenant_id WHERE t.slug = '" +
        slug + "' AND s.step_number = 3");
  }

  std::string step3_output_ = "e-3";  // the output adopt-3 sets in apply and reports in observe
};

TEST_F(CliAdoptableTest, RunnerKilledWithAdoptableResultsUncommittedConvergesWithoutApplyingTwice) {
  WriteAdoptableCatalog(1500);
  // An interval longer than the test: only the next non-adoptable step or the end of the pass
  // commits, so at the kill the results of steps 2-6 are certainly waiting.
  config_ = WriteConfig("\n[run]\nworkers = 3\ncommit_interval = 1h\n");
  ASSERT_NO_FATAL_FAILURE(Migrate());
  for (const char* slug : kSlugs) ASSERT_NO_FATAL_FAILURE(AddTenant(slug));

  pid_t pid = Spawn({"run"});
  ASSERT_GT(pid, 0);
  // Every tenant is in step 7's apply (hanging) once its .apply.calls exists.
  bool hanging = false;
  for (auto until = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < until;) {
    hanging = true;
    for (const char* slug : kSlugs) hanging = hanging && Calls(slug, "adopt-7", "apply") == 1;
    if (hanging) break;
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(50ms);
  ::kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(hanging) << "not every tenant reached step 7";

  // The applies of steps 2-6 happened (their files are there) but none of their rows was
  // committed: the crash lost exactly the results held back.
  for (const char* slug : kSlugs) {
    SCOPED_TRACE(slug);
    for (int n = 2; n <= 6; ++n) {
      EXPECT_TRUE(fs::exists(fs::path(state_dir_) / slug / StepName(n))) << StepName(n);
      EXPECT_EQ(Calls(slug, StepName(n), "apply"), 1) << StepName(n);
    }
  }
  EXPECT_EQ(Query("SELECT count(*) FROM matih.tenant_steps WHERE step_number BETWEEN 2 AND 8 "
                  "AND status IN ('DONE', 'RUNNING')"),
            "0");
  EXPECT_EQ(
      Query("SELECT count(*) FROM matih.audit_events WHERE event = 'step.finished' AND step_number >= 2"),
      "0");
  // Step 1's intent was committed before it ran (test.file is not adoptable).
  EXPECT_EQ(Query("SELECT count(*) FROM matih.audit_events WHERE event = 'step.started' AND step_number = 1"),
            "3");

  // The runner is gone; its leases run out; the next run resumes.
  db_->Exec("UPDATE matih.tenants SET lease_expires_at = now() - interval '1 second'");
  CliResult r = Cli({"run"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  for (const char* slug : kSlugs) {
    SCOPED_TRACE(slug);
    EXPECT_EQ(TenantStatus(slug), "ACTIVE");
    // Adopted, not applied again: the observe found each file the lost run wrote.
    for (int n = 2; n <= 6; ++n) EXPECT_EQ(Calls(slug, StepName(n), "apply"), 1) << StepName(n);
    // An adopted step's row carries the outputs its observe reported (the apply's were lost).
    EXPECT_EQ(Step3Endpoint(slug), "e-3");
    // Step 7 was interrupted inside its apply (nothing written yet): applied once more.
    EXPECT_EQ(Calls(slug, "adopt-7", "apply"), 2);
    EXPECT_EQ(Calls(slug, "activate-tenant", "apply"), 1);
    // One finished event per step, as without the crash.
    EXPECT_EQ(Query("SELECT count(*) FROM matih.audit_events e JOIN matih.tenants t ON t.id = e.tenant_id "
                    "WHERE t.slug = '" +
                    std::string(slug) + "' AND e.event = 'step.finished'"),
              "8");
    EXPECT_EQ(Query("SELECT count(*) FROM matih.tenant_steps s JOIN matih.tenants t ON t.id = s.tenant_id "
                    "WHERE t.slug = '" +
                    std::string(slug) + "' AND s.status = 'DONE'"),
              "8");
  }
  CliResult verify = Cli({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << Describe(verify);
}

TEST_F(CliAdoptableTest, AdoptableStepsShareCommitsInBothIsolationModesAndAZeroIntervalCommitsEachStep) {
  WriteAdoptableCatalog(0);
  ASSERT_NO_FATAL_FAILURE(Migrate());
  // The runner's own write transactions of a tenant: each one appends audit events.
  auto commits = [&](const std::string& slug) {
    return std::stoi(
        Query("SELECT count(DISTINCT e.xmin::text) FROM matih.audit_events e "
              "JOIN matih.tenants t ON t.id = e.tenant_id WHERE t.slug = '" +
              slug + "' AND e.run_id <> ''"));
  };
  config_ = WriteConfig("\n[run]\ncommit_interval = 1h\n");
  ASSERT_NO_FATAL_FAILURE(AddTenant("late"));
  CliResult late = Cli({"run"});
  ASSERT_EQ(late.exit_code, 0) << Describe(late);
  config_ = WriteConfig("\n[run]\ncommit_interval = 0s\n");
  ASSERT_NO_FATAL_FAILURE(AddTenant("each"));
  CliResult each = Cli({"run"});
  ASSERT_EQ(each.exit_code, 0) << Describe(each);
  // The same with the plugins in the runner's process (the flag read without the worker protocol).
  config_ = WriteConfig("\n[run]\ncommit_interval = 1h\n");
  ASSERT_NO_FATAL_FAILURE(AddTenant("inproc"));
  CliResult inproc = Cli({"run"}, {{"MATIH_PLUGINS_ISOLATION", "in_process"}});
  ASSERT_EQ(inproc.exit_code, 0) << Describe(inproc);
  EXPECT_EQ(TenantStatus("late"), "ACTIVE");
  EXPECT_EQ(TenantStatus("each"), "ACTIVE");
  EXPECT_EQ(TenantStatus("inproc"), "ACTIVE");
  EXPECT_LE(commits("inproc"), 3) << "8 steps, in_process";
  // Held back: step 1's intent, then everything else at the end of the pass (at most a couple
  // of commits for claim and transitions); one commit per step otherwise.
  EXPECT_LE(commits("late"), 3) << "8 steps";
  EXPECT_GE(commits("each"), 8) << "8 steps";
  CliResult verify = Cli({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << Describe(verify);
}

TEST_F(CliAdoptableTest, DriftPassRecordsAnInSyncStepOnlyWhenTheOutputsItsObserveReportsChanged) {
  WriteAdoptableCatalog(0);
  config_ = WriteConfig("\n[run]\ndrift_interval = 1ms\n");
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("steady"));
  CliResult first = Cli({"run"});
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  ASSERT_EQ(TenantStatus("steady"), "ACTIVE");
  ASSERT_EQ(Step3Endpoint("steady"), "e-3");
  const auto finished = [&] {
    return Query("SELECT count(*) FROM matih.audit_events WHERE event = 'step.finished'");
  };
  const std::string rows = "SELECT string_agg(xmin::text, ',' ORDER BY step_number) FROM matih.tenant_steps";
  const std::string before_events = finished(), before_rows = Query(rows);

  // Every step in sync, step 3 reporting the output already recorded: nothing is written for them.
  CliResult steady = Cli({"run"});
  ASSERT_EQ(steady.exit_code, 0) << Describe(steady);
  EXPECT_EQ(Calls("steady", "adopt-3", "observe"), 2) << "the second run was a drift pass";
  EXPECT_EQ(finished(), before_events);
  EXPECT_EQ(Query(rows), before_rows) << "no step row rewritten";

  // The observe now reports another value: the step is recorded again, with it, without an apply.
  step3_output_ = "e-3b";
  WriteAdoptableCatalog(0);
  CliResult changed = Cli({"run"});
  ASSERT_EQ(changed.exit_code, 0) << Describe(changed);
  EXPECT_EQ(Step3Endpoint("steady"), "e-3b");
  EXPECT_EQ(Calls("steady", "adopt-3", "apply"), 1);
  EXPECT_EQ(std::stoi(finished()), std::stoi(before_events) + 1);
  CliResult verify = Cli({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << Describe(verify);
}

}  // namespace
}  // namespace matih::testing
