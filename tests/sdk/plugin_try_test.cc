// `matih-provisioner plugins try`, run as a child process: the built-in tenant.validate, the
// test kinds test.noop and test.file and the SDK example pass (exit 0, five answers, idempotent);
// the deliberately non-idempotent sloppy.* kinds fail with exit 1 and a message naming the
// failed expectation; bad input is refused with exit 2 before any call.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "plugin_test_support.h"

namespace matih::testing {
namespace {

namespace fs = std::filesystem;

class PluginsTry : public ::testing::Test {
 protected:
  CliResult Try(const std::string& plugin_dir, std::vector<std::string> args) const {
    std::vector<std::string> all = {"--plugin-dir", plugin_dir, "plugins", "try"};
    all.insert(all.end(), args.begin(), args.end());
    return cli_.Run(all, {{"MATIH_LOG_LEVEL", "error"}});
  }
  static nlohmann::json Json(const CliResult& r) {
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << Describe(r);
    return j;
  }
  static std::vector<std::string> Statuses(const nlohmann::json& j) {
    std::vector<std::string> out;
    for (const auto& s : j["steps"]) out.push_back(s["status"].get<std::string>());
    return out;
  }
  // A plugin directory holding only the built-in validation plugin.
  std::string ValidationDir() {
    fs::copy_file(MATIH_VALIDATION_PLUGIN, plugins_ / "matih-validation.so");
    return plugins_.path();
  }

  CliRunner cli_{MATIH_PROVISIONER_BIN};
  TempDir plugins_;
  TempDir work_;
  const std::vector<std::string> kIdempotent = {"ABSENT", "OK", "IN_SYNC", "OK", "ABSENT"};
};

TEST_F(PluginsTry, BuiltInValidationKindIsIdempotentWithoutADatabase) {
  const std::string spec = work_ / "spec.json";
  std::ofstream(spec) << R"({"admin_email": "ops@acme.example", "region": "westeurope"})";
  auto r = Try(ValidationDir(),
               {"--kind", "tenant.validate", "--tenant-spec", spec, "--slug", "acme", "--setting",
                "tenant.regions=westeurope,eastus", "--setting",
                std::string("tenant.service_catalog=") + MATIH_SOURCE_DIR + "/config/service-catalog.yaml",
                "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto j = Json(r);
  EXPECT_EQ(Statuses(j), kIdempotent) << r.out;
  EXPECT_EQ(j["plugin"], "matih-validation");
  EXPECT_TRUE(j["idempotent"].get<bool>());
  EXPECT_TRUE(j["steps"][1]["outputs"].contains("request_sha256")) << r.out;
}

TEST_F(PluginsTry, BuiltInKubernetesObjectViaGitOpsOnALocalRepositoryIsIdempotent) {
  fs::copy_file(MATIH_KUBERNETES_PLUGIN, plugins_ / "matih-kubernetes.so");
  const std::string repo = work_ / "gitops";
  auto r = Try(plugins_.path(),
               {"--kind", "kubernetes.object", "--params", R"({"template": "namespace.yaml"})", "--slug",
                "acme", "--setting", std::string("templates.dir=") + MATIH_SOURCE_DIR + "/config/templates",
                "--setting", "gitops.repository=" + repo, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Statuses(Json(r)), kIdempotent) << r.out;
  // Apply committed the namespace, remove committed its removal: nothing of acme is left.
  CliRunner git("/usr/bin/git");
  auto log = git.Run({"-C", repo, "log", "--format=%s"});
  EXPECT_EQ(log.out,
            "tenant acme: remove step try (run plugins-try)\ntenant acme: step try (run plugins-try)\n")
      << Describe(log);
  auto files = git.Run({"-C", repo, "ls-files"});
  EXPECT_EQ(files.out.find("acme"), std::string::npos) << files.out;
}

TEST_F(PluginsTry, BuiltInCompliancePoliciesViaGitOpsOnALocalRepositoryIsIdempotent) {
  // matih-compliance reads the delivery settings matih-kubernetes declares: load both, as a run does.
  fs::copy_file(MATIH_KUBERNETES_PLUGIN, plugins_ / "matih-kubernetes.so");
  fs::copy_file(MATIH_COMPLIANCE_PLUGIN, plugins_ / "matih-compliance.so");
  const std::string repo = work_ / "gitops";
  auto r = Try(plugins_.path(), {"--kind", "compliance.policies", "--params",
                                 R"({"tiers": {"starter": {"profile": "shared-baseline", "action": "Enforce",
                                          "registries": ["registry.matih.ai/"]}}})",
                                 "--slug", "acme", "--setting",
                                 std::string("templates.dir=") + MATIH_SOURCE_DIR + "/config/templates",
                                 "--setting", "gitops.repository=" + repo, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Statuses(Json(r)), kIdempotent) << r.out;
  auto files = CliRunner("/usr/bin/git").Run({"-C", repo, "ls-files"});
  EXPECT_EQ(files.exit_code, 0) << Describe(files);
  EXPECT_EQ(files.out.find("acme"), std::string::npos) << files.out;
}

TEST_F(PluginsTry, BuiltInValidationKindRefusingTheTenantIsAFailureNamingWhy) {
  // No region in the spec's region list: the first observe already refuses (step 1 judges a
  // never-validated request in observe too), and try says so with exit 1.
  auto r = Try(ValidationDir(),
               {"--kind", "tenant.validate", "--setting", "tenant.regions=mars", "--setting",
                std::string("tenant.service_catalog=") + MATIH_SOURCE_DIR + "/config/service-catalog.yaml"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("observe #1 failed with INVALID_ARGUMENT"), std::string::npos) << Describe(r);
  EXPECT_NE(r.err.find("region"), std::string::npos) << Describe(r);
}

TEST_F(PluginsTry, TestKindsAndTheExamplePassAndLeaveNothingBehind) {
  auto noop =
      Try(TestPluginDir("steps"), {"--kind", "test.noop", "--setting", "test.state_dir=" + work_.path()});
  ASSERT_EQ(noop.exit_code, 0) << Describe(noop);
  EXPECT_NE(noop.out.find("idempotent: yes"), std::string::npos) << noop.out;

  auto file =
      Try(TestPluginDir("steps"), {"--kind", "test.file", "--params", R"({"value": "v1"})", "--setting",
                                   "test.state_dir=" + work_.path(), "--format", "json"});
  ASSERT_EQ(file.exit_code, 0) << Describe(file);
  EXPECT_EQ(Statuses(Json(file)), kIdempotent);
  EXPECT_FALSE(fs::exists(work_ / "try-tenant/try")) << "remove left the test.file target";

  auto hello =
      Try(TestPluginDir("hello"), {"--kind", "example.greeting", "--setting", "example.dir=" + work_.path()});
  ASSERT_EQ(hello.exit_code, 0) << Describe(hello);
  EXPECT_FALSE(fs::exists(work_ / "try-tenant.greeting")) << "remove left the greeting file";
}

TEST_F(PluginsTry, ATargetThatExistedBeforeIsNamedInAWarning) {
  fs::create_directories(work_ / "try-tenant");
  std::ofstream(work_ / "try-tenant/try") << "ok";
  auto r =
      Try(TestPluginDir("steps"), {"--kind", "test.file", "--setting", "test.state_dir=" + work_.path()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.err.find("the first observe found the scratch tenant's target IN_SYNC, not ABSENT"),
            std::string::npos)
      << Describe(r);
}

TEST_F(PluginsTry, NonIdempotentKindFailsNamingTheSecondObserve) {
  auto r = Try(TestPluginDir("sloppy"), {"--kind", "sloppy.counter", "--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(
      r.err.find("observe #3 answered DRIFTED (applied 1 times; wants one more), expected IN_SYNC: the kind "
                 "is not idempotent"),
      std::string::npos)
      << Describe(r);
  auto j = Json(r);
  EXPECT_FALSE(j["idempotent"].get<bool>());
  // Remove still ran to clean up, and did.
  EXPECT_EQ(Statuses(j), (std::vector<std::string>{"ABSENT", "OK", "DRIFTED", "OK", "ABSENT"}));
}

TEST_F(PluginsTry, KindWhoseRemoveLeavesItInPlaceFailsNamingTheLastObserve) {
  auto r = Try(TestPluginDir("sloppy"), {"--kind", "sloppy.sticky"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("observe #5 answered IN_SYNC, expected ABSENT: remove left something behind"),
            std::string::npos)
      << Describe(r);
  EXPECT_NE(r.out.find("NO"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("idempotent: yes"), std::string::npos) << r.out;
}

TEST_F(PluginsTry, TransientFailureIsReportedWithItsStatus) {
  auto r = Try(TestPluginDir("steps"), {"--kind", "test.file", "--params", R"({"fail": "transient"})",
                                        "--setting", "test.state_dir=" + work_.path()});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("apply #2 failed with UNAVAILABLE"), std::string::npos) << Describe(r);
}

TEST_F(PluginsTry, BadInputIsRefusedBeforeAnyCall) {
  auto not_object = Try(TestPluginDir("steps"), {"--kind", "test.file", "--params", "[1]"});
  EXPECT_EQ(not_object.exit_code, 2) << Describe(not_object);
  EXPECT_NE(not_object.err.find("--params must be a JSON object"), std::string::npos) << Describe(not_object);

  auto unknown = Try(TestPluginDir("steps"), {"--kind", "no.such"});
  EXPECT_EQ(unknown.exit_code, 2) << Describe(unknown);
  EXPECT_NE(unknown.err.find(
                "no loaded plugin exports kind 'no.such' (loaded: test.adopted_file, test.file, test.noop)"),
            std::string::npos)
      << Describe(unknown);

  auto refused = Try(ValidationDir(), {"--kind", "tenant.validate", "--params", R"({"bogus": 1})"});
  EXPECT_EQ(refused.exit_code, 2) << Describe(refused);
  EXPECT_NE(refused.err.find("unknown param 'bogus'"), std::string::npos) << Describe(refused);

  auto undeclared = Try(TestPluginDir("steps"), {"--kind", "test.noop", "--setting", "test.stat_dir=/tmp"});
  EXPECT_EQ(undeclared.exit_code, 2) << Describe(undeclared);
  EXPECT_NE(undeclared.err.find("test.stat_dir"), std::string::npos) << Describe(undeclared);

  auto bad_setting = Try(TestPluginDir("steps"), {"--kind", "test.noop", "--setting", "novalue"});
  EXPECT_EQ(bad_setting.exit_code, 2) << Describe(bad_setting);
  EXPECT_NE(bad_setting.err.find("--setting must be KEY=VALUE"), std::string::npos) << Describe(bad_setting);
  EXPECT_TRUE(fs::is_empty(work_.path()));
}

}  // namespace
}  // namespace matih::testing
