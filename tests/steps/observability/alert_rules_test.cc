// Step 44 (configure-alerting): the tenant's rule group, checked by promtool before it is put
// where Prometheus loads it, reloaded, and seen in Prometheus's own /api/v1/rules; plus a
// PrometheusRule in the GitOps repository. A rule that does not check is never installed.
#include <fstream>
#include <sstream>
#include <thread>

#include "steps/observability/observability_fixture.h"

namespace matih::testing {
namespace {

constexpr const char* kStep = "configure-alerting";

class AlertRules : public ObservabilityTest {};

std::vector<std::string> RuleNames(const nlohmann::json& group) {
  std::vector<std::string> out;
  for (const auto& r : group["rules"]) out.push_back(r["name"]);
  return out;
}

TEST_F(AlertRules, AbsentThenAppliedPrometheusLoadsTheTenantsGroup) {
  auto absent = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_ABSENT, absent.status);
  EXPECT_TRUE(absent.outputs.empty()) << "nothing to adopt, no outputs";
  auto applied = harness_.Apply(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, applied.status) << applied.message;
  const auto group = RuleGroupOf(tenant_);
  ASSERT_FALSE(group.is_null());
  EXPECT_EQ(RuleFile(tenant_), group["file"]);
  EXPECT_EQ(
      (std::vector<std::string>{"TenantServiceDown", "TenantQuotaNearLimit", "TenantCertificateExpiring"}),
      RuleNames(group));
  EXPECT_EQ(300, group["rules"][0]["duration"]);
  EXPECT_EQ("warning", group["rules"][0]["labels"]["severity"]) << "starter's severity from the catalog";
  EXPECT_NE(std::string::npos,
            group["rules"][0]["query"].get<std::string>().find("tenant=\"" + tenant_.view.slug + "\""));
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
  EXPECT_EQ(applied.outputs, observed.outputs) << "adoptable: an in-sync observe reports the apply's outputs";
  const std::string object = GitFile(tenant_, kStep);
  EXPECT_NE(std::string::npos, object.find("kind: PrometheusRule")) << object;
  EXPECT_NE(std::string::npos, object.find("name: tenant-" + tenant_.view.slug)) << object;
}

TEST_F(AlertRules, EnterpriseGetsItsExtraRules) {
  TestTenant big = NewTenant("enterprise", "big");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, big).status);
  const auto group = RuleGroupOf(big);
  ASSERT_FALSE(group.is_null());
  ASSERT_EQ(4u, group["rules"].size());
  EXPECT_EQ("TenantHighErrorRate", group["rules"][3]["name"]);
  EXPECT_NE(std::string::npos,
            group["rules"][3]["query"].get<std::string>().find("namespace=\"tenant-" + big.view.slug + "\""));
  EXPECT_EQ("critical", group["rules"][0]["labels"]["severity"]);
}

TEST_F(AlertRules, ApplyingAgainWritesNothing) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  const std::string file = Identity(RuleFile(tenant_)), head = GitHead();
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(file, Identity(RuleFile(tenant_)));
  EXPECT_EQ(head, GitHead());
}

TEST_F(AlertRules, RuleGroupEditedByHandIsDriftedAndRepaired) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  std::string text = ReadFile(RuleFile(tenant_));
  const auto at = text.find("for: 5m");
  ASSERT_NE(std::string::npos, at) << text;
  text.replace(at, 7, "for: 1h");
  WriteFile(RuleFile(tenant_), text);
  Reload();
  ASSERT_EQ(3600, RuleGroupOf(tenant_)["rules"][0]["duration"]);
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_TRUE(observed.outputs.empty()) << "a drifted observe reports no outputs";
  EXPECT_EQ("rule file " + RuleFile(tenant_) + " differs", observed.message);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(300, RuleGroupOf(tenant_)["rules"][0]["duration"]) << "reloaded after the repair";
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(AlertRules, GroupNotLoadedByPrometheusIsDriftedAndReloaded) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  const std::string text = ReadFile(RuleFile(tenant_));
  std::filesystem::remove(RuleFile(tenant_));
  Reload();
  WriteFile(RuleFile(tenant_), text);  // back on disk, but Prometheus was not told
  ASSERT_TRUE(RuleGroupOf(tenant_).is_null());
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_EQ("rule group tenant-" + tenant_.view.slug + " not loaded by Prometheus", observed.message);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_FALSE(RuleGroupOf(tenant_).is_null());
}

TEST_F(AlertRules, RuleThatDoesNotCheckIsNeverInstalled) {
  harness_.SetParams(
      kStep, R"({"extra_rules": {"starter": [{"alert": "Broken", "expr": "sum(up{tenant=\"${slug}\""}]}})");
  auto answer = harness_.Apply(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("promtool check rules")) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("nothing was installed")) << answer.message;
  EXPECT_FALSE(std::filesystem::exists(RuleFile(tenant_)));
  EXPECT_TRUE(HiddenFiles(rules_dir_, tenant_.view.slug).empty()) << "the staged file was removed";
  EXPECT_TRUE(RuleGroupOf(tenant_).is_null());
}

TEST_F(AlertRules, RuleThatDoesNotCheckLeavesTheInstalledGroupAlone) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  const std::string before = ReadFile(RuleFile(tenant_));
  harness_.SetParams(kStep, R"({"extra_rules": {"starter": [{"alert": "BadTemplate", "expr": "up == 0",
                                "summary": "{{ $labels.instance "}]}})");
  auto answer = harness_.Apply(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status) << answer.message;
  EXPECT_EQ(before, ReadFile(RuleFile(tenant_)));
  EXPECT_EQ(3u, RuleGroupOf(tenant_)["rules"].size());
}

TEST_F(AlertRules, RemoveLeavesNothingAndCanBeRepeated) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  EXPECT_TRUE(RuleGroupOf(tenant_).is_null());
  EXPECT_FALSE(std::filesystem::exists(RuleFile(tenant_)));
  EXPECT_EQ("", GitFile(tenant_, kStep));
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
}

TEST_F(AlertRules, TwoTenantsAreIsolated) {
  TestTenant other = NewTenant("free", "other");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, other).status);
  WriteFile(RuleFile(other), "groups: []\n");
  Reload();
  EXPECT_EQ(MATIH_STATUS_DRIFTED, harness_.Observe(kStep, other).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, other).status);
  EXPECT_FALSE(RuleGroupOf(tenant_).is_null());
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

// The cluster objects of both steps against the Prometheus Operator's own schemas, offline (npm
// @kubernetes-models/prometheus-operator@4.4.4 in var/node, next to kubernetes-models@4.5.1).
TEST_F(AlertRules, ClusterObjectsPassThePrometheusOperatorSchemas) {
  const std::string node_modules = std::string(MATIH_SOURCE_DIR) + "/var/node/node_modules";
  if (!std::filesystem::exists(node_modules + "/@kubernetes-models/prometheus-operator") ||
      !std::filesystem::exists(node_modules + "/js-yaml"))
    GTEST_SKIP() << "npm @kubernetes-models/prometheus-operator@4.4.4 and js-yaml are not in var/node";
  TestTenant big = NewTenant("enterprise", "big");
  std::vector<std::string> files;
  for (TestTenant* t : {&tenant_, &big}) {
    for (const char* step : {"configure-monitoring", kStep}) {
      ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(step, *t).status) << step;
      files.push_back(harness_.settings()["gitops.repository"] + "/tenants/" + t->view.slug + "/" + step +
                      ".yaml");
    }
  }
  std::string command = "NODE_PATH='" + node_modules + "' node '" + MATIH_SOURCE_DIR +
                        "/tests/steps/observability/validate_monitoring_objects.js'";
  for (const auto& f : files) command += " '" + f + "'";
  std::string out;
  EXPECT_EQ(0, RunCommand(command, &out)) << out;
  EXPECT_NE(std::string::npos, out.find("4 objects checked, 0 invalid")) << out;
}

TEST_F(AlertRules, BadParamsAreRefusedAtCatalogLoad) {
  const auto& kind = harness_.KindOf(kStep);
  EXPECT_TRUE(kind.ValidateParams(harness_.Step(kStep).params_json).ok());
  for (const char* bad : {
           R"({"down_for": "5 minutes"})",
           R"({"quota_ratio": 1.5})",
           R"({"certificate_days": 0})",
           R"({"severity": {"gold": "critical"}})",
           R"({"severity": {"free": "panic"}})",
           R"({"extra_rules": {"free": [{"alert": "Bad Name", "expr": "up == 0"}]}})",
           R"({"extra_rules": {"free": [{"alert": "NoExpr"}]}})",
           R"({"extra_rules": {"free": [{"alert": "A", "expr": "up", "runbook": "x"}]}})",
           R"({"extra_rules": {"free": [{"alert": "A", "expr": "up"}, {"alert": "A", "expr": "up"}]}})",
           R"({"unknown": 1})",
       })
    EXPECT_FALSE(kind.ValidateParams(bad).ok()) << bad;
}

TEST_F(AlertRules, PrometheusDownIsTransient) {
  harness_.settings()["observability.prometheus_url"] = "http://127.0.0.1:1";
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Apply(kStep, tenant_).status);
}

TEST_F(AlertRules, MissingPromtoolIsAPermanentErrorNamingTheSetting) {
  harness_.settings()["observability.promtool"] = "/nonexistent/promtool";
  auto answer = harness_.Apply(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("observability.promtool")) << answer.message;
  EXPECT_FALSE(std::filesystem::exists(RuleFile(tenant_)));
}

}  // namespace
}  // namespace matih::testing
