// What `run`, `plan` and `plugins verify` check before anything is claimed (issue 17 §3, §6),
// through the real binary with the real control-plane plugin:
// - a key file a plugin declares (MATIH_SETTING_KEY_FILE: controlplane.hash_key_file) with group
//   or other access, or a key shorter than 32 bytes, stops `run` and `plan` at start with exit 2,
//   naming the setting, the file and the problem; the database is untouched (no claim, no runs row);
// - `plugins verify` gives every plugin file its verdict, refusals included, and exits 2 when one
//   was refused; a third-party copy of a built-in plugin is refused as the newcomer naming both
//   files, whatever the order of --plugin-dir, and `run` refuses to start with the same message;
//   a plugin that crashes while loading is refused (it loads in a child process), the others not.
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "cli_fixture.h"

namespace matih::testing {
namespace {

namespace fs = std::filesystem;

std::string BuiltinDir() { return fs::canonical(MATIH_PLUGIN_DIR).string(); }
std::string ControlPlanePlugin() { return BuiltinDir() + "/matih-control-plane.so"; }
std::string TestStepsDir() { return std::string(MATIH_TEST_PLUGIN_DIR) + "/steps"; }

class StartChecks : public CliTest {
 protected:
  // The test config plus the built-in plugin directory and a control-plane hash key file.
  void UseHashKey(const std::string& content, mode_t mode) {
    hash_key_ = WriteFile("controlplane-hash.key", content);
    ::chmod(hash_key_.c_str(), mode);
    config_ = WriteConfig("controlplane.hash_key_file = " + hash_key_ +
                          "\n\n[plugins]\ndir = " + BuiltinDir() + "\n");
  }
  std::string hash_key_;
};

TEST_F(StartChecks, RunAndPlanRefuseAKeyFileOthersCanReadBeforeClaimingAnything) {
  UseHashKey(std::string(64, 'c') + "\n", 0600);
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("acme"));
  ::chmod(hash_key_.c_str(), 0644);
  const std::string before = Snapshot();
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"run"}, std::vector<std::string>{"run", "--tenant", "acme"},
        std::vector<std::string>{"plan", "--all"}}) {
    CliResult r = Cli(command);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_NE(r.err.find("targets.controlplane.hash_key_file: key file " + hash_key_ +
                         " has mode 0644: group and others must have no access; run chmod 600 " + hash_key_),
              std::string::npos)
        << Describe(r);
  }
  EXPECT_EQ(Snapshot(), before) << "nothing claimed, no runs row";
  EXPECT_EQ(TenantStatus("acme"), "PENDING");
  // Fixed, the same run goes ahead.
  ::chmod(hash_key_.c_str(), 0600);
  CliResult ok = Cli({"run", "--tenant", "acme"});
  EXPECT_EQ(ok.exit_code, 0) << Describe(ok);
  EXPECT_EQ(TenantStatus("acme"), "ACTIVE");
}

TEST_F(StartChecks, RunRefusesASixteenByteKeyAtStart) {
  UseHashKey(std::string(64, 'c') + "\n", 0600);
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("acme"));
  UseHashKey(std::string(32, 'd') + "\n", 0600);  // 32 hex digits: a 16-byte key
  const std::string before = Snapshot();
  CliResult r = Cli({"run"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("targets.controlplane.hash_key_file: key file " + hash_key_ +
                       " holds 32 hex digits, a key of 16 bytes; at least 32 bytes are needed"),
            std::string::npos)
      << Describe(r);
  EXPECT_EQ(r.err.find(std::string(32, 'd')), std::string::npos) << "the key is never printed";
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(Query("SELECT count(*) FROM matih.runs"), "0");
  EXPECT_EQ(Query("SELECT count(*) FROM matih.tenants WHERE lease_owner IS NOT NULL OR lease_epoch > 0"),
            "0");
}

class PluginsVerify : public CliTest {
 protected:
  bool NeedsDatabase() const override { return false; }
  // A third party's copy of the built-in control-plane plugin in a folder of its own.
  std::string ThirdPartyCopy() {
    const std::string dir = dir_ + "/third-party";
    fs::create_directories(dir);
    ::chmod(dir.c_str(), 0755);
    const std::string copy = dir + "/acme-control-plane.so";
    fs::copy_file(ControlPlanePlugin(), copy);
    ::chmod(copy.c_str(), 0755);
    return fs::canonical(copy).string();
  }
};

TEST_F(PluginsVerify, ThirdPartyCopyOfABuiltinIsRefusedAsTheNewcomerWhateverTheOrder) {
  const std::string copy = ThirdPartyCopy();
  const std::string third = fs::path(copy).parent_path().string();
  const std::string expected = "step kind controlplane.tenant is exported by both " + ControlPlanePlugin() +
                               " (built-in) and " + copy + ": refusing " + copy + ", the newcomer";
  for (const auto& dirs : {std::vector<std::string>{third, TestStepsDir(), BuiltinDir()},
                           std::vector<std::string>{BuiltinDir(), TestStepsDir(), third}}) {
    std::vector<std::string> flags;
    for (const auto& d : dirs) flags.insert(flags.end(), {"--plugin-dir", d});
    SCOPED_TRACE("--plugin-dir order: " + dirs[0] + " first");

    std::vector<std::string> verify = flags;
    verify.insert(verify.end(), {"plugins", "verify"});
    CliResult table = Cli(verify);
    EXPECT_EQ(table.exit_code, 2) << Describe(table);
    EXPECT_NE(table.err.find("matih-provisioner: refused " + copy + ": " + expected), std::string::npos)
        << Describe(table);
    EXPECT_NE(table.out.find("refused  operator"), std::string::npos) << Describe(table);
    EXPECT_NE(table.out.find("plugins: 1 refused"), std::string::npos) << Describe(table);

    verify.insert(verify.end(), {"--format", "json"});
    CliResult json = Cli(verify);
    EXPECT_EQ(json.exit_code, 2) << Describe(json);
    auto j = nlohmann::json::parse(json.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << Describe(json);
    EXPECT_EQ(j["refused"], 1);
    int ok = 0;
    for (const auto& p : j["plugins"]) {
      if (p["file"] == copy) {
        EXPECT_EQ(p["verdict"], "refused");
        EXPECT_EQ(p["origin"], "operator");
        EXPECT_NE(p["reason"].get<std::string>().find(expected), std::string::npos) << p.dump();
      } else {
        EXPECT_EQ(p["verdict"], "ok") << p.dump();
        ++ok;
      }
      if (p["file"] == ControlPlanePlugin()) {
        EXPECT_EQ(p["origin"], "built-in");
      }
    }
    EXPECT_GE(ok, 2) << "the built-in control plane and the test steps load";

    // No database is reached: the plugins are refused first (the URL is never dialled).
    std::vector<std::string> run = flags;
    run.insert(run.end(), {"--database-url", "postgresql://127.0.0.1:9/none", "run"});
    CliResult r = Cli(run);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_NE(r.err.find(expected), std::string::npos) << Describe(r);
  }
}

TEST_F(PluginsVerify, EveryGoodFileIsOkAndExitIsZero) {
  CliResult r = Cli({"plugins", "verify"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("plugins: every file loaded"), std::string::npos) << Describe(r);
  EXPECT_NE(r.out.find("ok "), std::string::npos) << Describe(r);
}

TEST_F(PluginsVerify, ReportsEveryRefusedFileNotOnlyTheFirst) {
  const std::string dir = dir_ + "/broken";
  fs::create_directories(dir);
  ::chmod(dir.c_str(), 0755);
  for (const std::string name : {"a-not-elf.so", "b-not-elf.so"}) {
    WriteFile("broken/" + name, "not a shared object");
    ::chmod((dir + "/" + name).c_str(), 0644);
  }
  CliResult r = Cli({"--plugin-dir", TestStepsDir(), "--plugin-dir", dir, "plugins", "verify"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("matih-provisioner: refused " + dir + "/a-not-elf.so: "), std::string::npos)
      << Describe(r);
  EXPECT_NE(r.err.find("matih-provisioner: refused " + dir + "/b-not-elf.so: "), std::string::npos)
      << Describe(r);
  EXPECT_NE(r.out.find("plugins: 2 refused"), std::string::npos) << Describe(r);
}

// A plugin whose registration function crashes (tests/test_plugins/crashing_registration.cc) is
// loaded in a child process: it gets the verdict "crashed while loading (signal 11)", the files
// after it in load order still get theirs, and verify exits 2.
TEST_F(PluginsVerify, APluginThatCrashesWhileLoadingIsRefusedAndTheOthersStillGetTheirVerdicts) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "the sanitizer runtime takes over SIGSEGV in the child; checked in the Release pass";
#endif
  const std::string dir = dir_ + "/mixed";
  fs::create_directories(dir);
  ::chmod(dir.c_str(), 0755);
  const std::string crashing = dir + "/a-crashing.so", steps = dir + "/b-steps.so",
                    broken = dir + "/c-not-elf.so";
  fs::copy_file(std::string(MATIH_TEST_PLUGIN_DIR) + "/crashing/matih-test-crashing.so", crashing);
  fs::copy_file(TestStepsDir() + "/matih-test-steps.so", steps);
  WriteFile("mixed/c-not-elf.so", "not a shared object");
  for (const auto& f : {crashing, steps, broken}) ::chmod(f.c_str(), 0755);

  CliResult r = Cli({"--plugin-dir", dir, "plugins", "verify"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  const std::string real = fs::canonical(dir).string();
  EXPECT_NE(
      r.err.find("matih-provisioner: refused " + real + "/a-crashing.so: crashed while loading (signal 11)"),
      std::string::npos)
      << Describe(r);
  EXPECT_NE(r.err.find("matih-provisioner: refused " + real + "/c-not-elf.so: "), std::string::npos)
      << Describe(r);
  EXPECT_NE(r.out.find("plugins: 2 refused"), std::string::npos) << Describe(r);

  r = Cli({"--plugin-dir", dir, "plugins", "verify", "--format", "json"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << Describe(r);
  EXPECT_EQ(j["refused"], 2);
  std::map<std::string, nlohmann::json> by_file;
  for (const auto& p : j["plugins"]) by_file[p["file"].get<std::string>()] = p;
  ASSERT_EQ(by_file.size(), 3u) << j.dump(2);
  EXPECT_EQ(by_file[real + "/a-crashing.so"]["verdict"], "refused");
  EXPECT_EQ(by_file[real + "/a-crashing.so"]["reason"], "crashed while loading (signal 11)");
  EXPECT_EQ(by_file[real + "/b-steps.so"]["verdict"], "ok") << by_file[real + "/b-steps.so"].dump();
  EXPECT_EQ(by_file[real + "/b-steps.so"]["name"], "matih-test-steps");
  EXPECT_EQ(by_file[real + "/c-not-elf.so"]["verdict"], "refused");
}

// A plugin that calls exit() while loading ends only the child: it is named and refused.
TEST_F(PluginsVerify, APluginThatExitsWhileLoadingIsRefusedAndVerifyGoesOn) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP()
      << "LeakSanitizer's exit-time check may change the child's exit status; checked in the Release pass";
#endif
  const std::string dir = dir_ + "/exiting";
  fs::create_directories(dir);
  ::chmod(dir.c_str(), 0755);
  const std::string exiting = dir + "/a-exiting.so", steps = dir + "/b-steps.so";
  fs::copy_file(std::string(MATIH_TEST_PLUGIN_DIR) + "/crashing/matih-test-crashing.so", exiting);
  fs::copy_file(TestStepsDir() + "/matih-test-steps.so", steps);
  for (const auto& f : {exiting, steps}) ::chmod(f.c_str(), 0755);

  CliResult r = Cli({"--plugin-dir", dir, "plugins", "verify"}, {{"TEST_PLUGIN_LOAD_FAULT", "exit"}});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  const std::string real = fs::canonical(dir).string();
  EXPECT_NE(r.err.find("matih-provisioner: refused " + real +
                       "/a-exiting.so: ended the process while loading (exit status 3)"),
            std::string::npos)
      << Describe(r);
  EXPECT_NE(r.out.find("plugins: 1 refused"), std::string::npos) << Describe(r);
  EXPECT_NE(r.out.find("matih-test-steps"), std::string::npos) << Describe(r);
}

}  // namespace
}  // namespace matih::testing
