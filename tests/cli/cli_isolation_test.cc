// `run` with plugins in worker processes (the default): a step whose plugin segfaults and one
// that hangs past its timeout fail only their tenants; the runner survives, records why, and
// the other tenants of the batch finish. The same catalog in_process would take the runner down
// (exit 139), which is what this guards against.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "cli_fixture.h"

namespace matih::testing {
namespace {

class CliIsolationTest : public CliTest {
 protected:
  void UseFaultyCatalog() {
    const std::string yaml =
        "version: 1\n"
        "phases: {0: validation, 1: control-plane, 7: cloud-infrastructure, 8: finalization}\n"
        "flows:\n"
        "  free:         {placement: shared,    phases: [0, 1, 8]}\n"
        "  starter:      {placement: shared,    phases: [0, 1, 8]}\n"
        "  professional: {placement: dedicated, phases: [0, 1, 7, 8]}\n"
        "  enterprise:   {placement: dedicated, phases: [0, 1, 7, 8]}\n"
        "defaults:\n"
        "  retry: {attempts: 1, initial_backoff: 10ms, max_backoff: 10ms}\n"
        "  timeout: 10s\n"
        "steps:\n"
        "  - {number: 1, name: validate-request, phase: 0, kind: test.file, tiers: [free, starter, "
        "professional, "
        "enterprise], params: {value: ok}}\n"
        "  - {number: 2, name: register-webhook, phase: 1, kind: faulty.segfault, tiers: [starter], params: "
        "{}}\n"
        "  - {number: 3, name: terraform-apply, phase: 7, kind: faulty.hang, tiers: [professional], timeout: "
        "500ms, "
        "params: {}}\n"
        "  - {number: 4, name: activate-tenant, phase: 8, kind: test.file, tiers: [free, starter, "
        "professional, "
        "enterprise], params: {value: ok}}\n";
    catalog_ = WriteFile("catalog.yaml", yaml);
    config_ = WriteConfig(
        "\n[run]\nfailure_policy = park\nmax_attempts = 1\nworkers = 4\n\n[plugins]\nstop_grace = 300ms\ndir "
        "= " +
        std::string(MATIH_TEST_PLUGIN_DIR) + "/faulty\n");
  }
};

TEST_F(CliIsolationTest, CrashingAndHangingPluginsFailOnlyTheirTenants) {
  UseFaultyCatalog();
  ASSERT_NO_FATAL_FAILURE(Migrate());
  for (const char* slug : {"alpha", "bravo", "charlie"}) ASSERT_NO_FATAL_FAILURE(AddTenant(slug, "free"));
  ASSERT_NO_FATAL_FAILURE(AddTenant("crashy", "starter"));
  ASSERT_NO_FATAL_FAILURE(AddTenant("hangy", "professional"));

  const auto start = std::chrono::steady_clock::now();
  CliResult r = Cli({"run"});
  // The hang (timeout 500ms) ends within plugins.stop_grace (300ms) and the kill grace after it.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  EXPECT_EQ(r.exit_code, 3) << Describe(r);  // a tenant of this run ended FAILED; no signal
  for (const char* slug : {"alpha", "bravo", "charlie"}) EXPECT_EQ(TenantStatus(slug), "ACTIVE") << slug;
  EXPECT_EQ(TenantStatus("crashy"), "FAILED");
  EXPECT_EQ(TenantStatus("hangy"), "FAILED");

  CliResult crashy = Cli({"tenants", "show", "crashy"});
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer's own SEGV handler ends the worker with exit(1) instead of the signal.
  EXPECT_NE(crashy.out.find("the plugin worker"), std::string::npos) << Describe(crashy);
#else
  EXPECT_NE(crashy.out.find("signal 11"), std::string::npos) << Describe(crashy);
  EXPECT_NE(r.err.find("Segmentation fault"), std::string::npos) << "the worker's end is logged";
#endif
  EXPECT_NE(crashy.out.find("register-webhook"), std::string::npos) << Describe(crashy);
  CliResult hangy = Cli({"tenants", "show", "hangy"});
  EXPECT_NE(hangy.out.find("its plugin worker was stopped"), std::string::npos) << Describe(hangy);
}

TEST_F(CliIsolationTest, IsolationModeIsAConfigKey) {
  UseFaultyCatalog();
  config_ = WriteConfig("\n[plugins]\nisolation = sideways\n");
  CliResult bad = Cli({"steps", "list"});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  EXPECT_NE(bad.err.find("plugins.isolation"), std::string::npos) << Describe(bad);
  config_ = WriteConfig("\n[plugins]\nworker_memory_limit = lots\n");
  bad = Cli({"steps", "list"});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  EXPECT_NE(bad.err.find("plugins.worker_memory_limit"), std::string::npos) << Describe(bad);
  config_ = WriteConfig("\n[plugins]\nisolation = in_process\nworker_memory_limit = 1GiB\ndir = " +
                        std::string(MATIH_TEST_PLUGIN_DIR) + "/faulty\n");
  CliResult ok = Cli({"steps", "list"});
  EXPECT_EQ(ok.exit_code, 0) << Describe(ok);
  EXPECT_NE(ok.out.find("faulty.segfault"), std::string::npos) << Describe(ok);
}

TEST_F(CliIsolationTest, TruncatedAndGarbagePluginsAreRefusedWithExitTwo) {
  const std::string dir = dir_ + "/broken-plugins";
  std::filesystem::create_directories(dir);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                        std::filesystem::perms::group_exec |
                                        std::filesystem::perms::others_read |
                                        std::filesystem::perms::others_exec);
  std::string real;
  for (const auto& e : std::filesystem::directory_iterator(MATIH_TEST_PLUGIN_DIR "/steps"))
    real = e.path().string();
  ASSERT_FALSE(real.empty());
  std::ifstream in(real, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 20000u);
  std::ofstream(dir + "/truncated.so", std::ios::binary).write(bytes.data(), 20000);
  std::ofstream(dir + "/garbage.so", std::ios::binary) << std::string(3000, '\x42');
  CliResult r = Raw({"--plugin-dir", dir, "plugins", "verify"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);  // a refusal, never SIGBUS (135) or SIGSEGV (139)
  EXPECT_NE(r.err.find("truncated.so"), std::string::npos) << Describe(r);
  EXPECT_NE(r.err.find("garbage.so"), std::string::npos) << Describe(r);
}

// in_process: calls that ignore their cancel are abandoned on threads the runner cannot stop.
// Past the cap (8) the run takes no further tenant, records what it has, and leaves with
// _exit: the tenants it did not start stay PENDING for a later run, and no static destructor
// runs under the abandoned threads (under ASan too: LeakSanitizer never runs at _exit).
TEST_F(CliIsolationTest, InProcessRunnerStopsClaimingPastTheCapOfAbandonedCalls) {
  const std::string all = "tiers: [free, starter, professional, enterprise]";
  const std::string yaml =
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
      "  - {number: 1, name: validate-request, phase: 0, kind: faulty.echo, " +
      all +
      ", params: {}}\n"
      "  - {number: 2, name: register-webhook, phase: 1, kind: faulty.hang, " +
      all +
      ", timeout: 200ms, params: {seconds: 60}}\n"
      "  - {number: 4, name: activate-tenant, phase: 8, kind: faulty.echo, " +
      all + ", params: {}}\n";
  catalog_ = WriteFile("catalog.yaml", yaml);
  config_ = WriteConfig(
      "\n[run]\nfailure_policy = park\nmax_attempts = 1\nworkers = 8\n\n[plugins]\n"
      "isolation = in_process\ndir = " +
      std::string(MATIH_TEST_PLUGIN_DIR) + "/faulty\n");
  ASSERT_NO_FATAL_FAILURE(Migrate());
  for (int i = 1; i <= 11; ++i) ASSERT_NO_FATAL_FAILURE(AddTenant("hang" + std::to_string(i), "free"));

  CliResult r = Cli({"run", "--limit", "11"});
  // 8 tenants failed (their calls abandoned); the 3 others were never started.
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("ignored their timeout and still run in this process"), std::string::npos)
      << Describe(r);
  int failed = 0, untouched = 0;
  for (int i = 1; i <= 11; ++i) {
    const std::string status = TenantStatus("hang" + std::to_string(i));
    failed += status == "FAILED";
    untouched += status == "PENDING" || status == "PROVISIONING";  // left to its lease
  }
  EXPECT_EQ(failed, 8) << Describe(r);
  EXPECT_EQ(untouched, 3) << "past the cap no further tenant is started; " << Describe(r);
  EXPECT_EQ(Query("SELECT count(*) FROM matih.tenant_steps WHERE step_number = 4 AND status <> 'PENDING'"),
            "0")
      << "no tenant went on past the hanging step";
  EXPECT_EQ(Query("SELECT exit_code FROM matih.runs ORDER BY started_at DESC LIMIT 1"), "3");
}

}  // namespace
}  // namespace matih::testing
