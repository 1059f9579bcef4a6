// Step 43 (configure-monitoring): the tenant's services become Prometheus scrape targets through
// a file_sd target file written atomically, checked in Prometheus's own /api/v1/targets, plus a
// ServiceMonitor in the GitOps repository. Hand changes are DRIFTED and repaired; remove leaves
// nothing in Prometheus; tenants are isolated.
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "steps/observability/observability_fixture.h"

namespace matih::testing {
namespace {

constexpr const char* kStep = "configure-monitoring";

class MonitoringTargets : public ObservabilityTest {};

std::set<std::string> Instances(const std::map<std::string, nlohmann::json>& targets) {
  std::set<std::string> out;
  for (const auto& [instance, _] : targets) out.insert(instance);
  return out;
}

TEST_F(MonitoringTargets, AbsentThenAppliedPrometheusScrapesTheTenantsServices) {
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  auto applied = harness_.Apply(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, applied.status) << applied.message;
  const std::string ns = "tenant-" + tenant_.view.slug;
  auto targets = TargetsOf(tenant_);  // apply waited for Prometheus: no polling needed here
  ASSERT_EQ((std::set<std::string>{"bi-service." + ns + ".svc:9090", "query-engine." + ns + ".svc:9090"}),
            Instances(targets));
  const auto& labels = targets["query-engine." + ns + ".svc:9090"];
  EXPECT_EQ("starter", labels["tier"]);
  EXPECT_EQ("query-engine", labels["service"]);
  EXPECT_EQ(tenant_.view.id, labels["tenant_id"]);
  EXPECT_EQ(ns, labels["namespace"]);
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
  const std::string monitor = GitFile(tenant_, kStep);
  EXPECT_NE(std::string::npos, monitor.find("kind: ServiceMonitor")) << monitor;
  EXPECT_NE(std::string::npos, monitor.find("apiVersion: monitoring.coreos.com/v1")) << monitor;
  EXPECT_NE(std::string::npos, monitor.find("namespace: " + ns)) << monitor;
  EXPECT_NE(std::string::npos, monitor.find("replacement: " + tenant_.view.slug)) << monitor;
  EXPECT_EQ(TargetFile(tenant_), tenant_.outputs[kStep]["targets_file"]);
}

TEST_F(MonitoringTargets, ApplyingAgainWritesNothing) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  const std::string file = Identity(TargetFile(tenant_)), head = GitHead();
  ASSERT_NE("missing", file);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(file, Identity(TargetFile(tenant_)));
  EXPECT_EQ(head, GitHead());
}

TEST_F(MonitoringTargets, DeletedTargetFileIsDriftedAndRepaired) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  std::filesystem::remove(TargetFile(tenant_));
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_EQ("target file " + TargetFile(tenant_) + " missing", observed.message);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_TRUE(std::filesystem::exists(TargetFile(tenant_)));
  // Prometheus applies discovered changes in batches every few seconds: it may still be between
  // dropping the deleted file's targets and taking them back.
  EXPECT_TRUE(Eventually([&] { return TargetsOf(tenant_).size() == 2; }));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(MonitoringTargets, EditedTargetFileIsDriftedAndRepaired) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  WriteFile(TargetFile(tenant_),
            R"([{"targets": ["evil.example:9090"], "labels": {"tenant": ")" + tenant_.view.slug + R"("}}])");
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_EQ("target file " + TargetFile(tenant_) + " differs", observed.message);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(std::string::npos, ReadFile(TargetFile(tenant_)).find("evil.example"));
  EXPECT_TRUE(Eventually([&] {
    auto targets = TargetsOf(tenant_);
    return targets.size() == 2 && targets.count("evil.example:9090") == 0;
  }));
}

TEST_F(MonitoringTargets, DeletedServiceMonitorIsDriftedAndRepaired) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  const std::string repo = harness_.settings()["gitops.repository"];
  ASSERT_EQ(0,
            RunCommand("git -C '" + repo + "' rm -q tenants/" + tenant_.view.slug + "/" + kStep +
                       ".yaml && git -C '" + repo + "' -c user.name=op -c user.email=op@x commit -qm hand"));
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_EQ("ServiceMonitor tenant-services missing", observed.message);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_NE(std::string::npos, GitFile(tenant_, kStep).find("kind: ServiceMonitor"));
}

TEST_F(MonitoringTargets, RemoveLeavesNothingAndCanBeRepeated) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  EXPECT_TRUE(TargetsOf(tenant_).empty()) << "remove waited until Prometheus dropped them";
  EXPECT_FALSE(std::filesystem::exists(TargetFile(tenant_)));
  EXPECT_EQ("", GitFile(tenant_, kStep));
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
}

TEST_F(MonitoringTargets, TwoTenantsAreIsolated) {
  TestTenant other = NewTenant("professional", "other");
  // Two tenants at once, as two runner workers would (each apply waits for Prometheus).
  auto mine = std::async(std::launch::async, [&] { return harness_.Apply(kStep, tenant_); });
  auto theirs = std::async(std::launch::async, [&] { return harness_.Apply(kStep, other); });
  ASSERT_EQ(MATIH_STATUS_OK, mine.get().status);
  ASSERT_EQ(MATIH_STATUS_OK, theirs.get().status);
  ASSERT_EQ(2u, TargetsOf(other).size());
  for (const auto& [instance, labels] : TargetsOf(other)) {
    EXPECT_NE(std::string::npos, instance.find(".tenant-" + other.view.slug + ".svc")) << instance;
    EXPECT_EQ("professional", labels["tier"]);
  }
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, other).status);
  EXPECT_EQ(2u, TargetsOf(tenant_).size());
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(MonitoringTargets, BadParamsAreRefusedAtCatalogLoad) {
  const auto& kind = harness_.KindOf(kStep);
  EXPECT_TRUE(kind.ValidateParams(harness_.Step(kStep).params_json).ok());
  for (const char* bad : {R"({"port": 0})", R"({"port": "9090"})", R"({"path": "metrics"})",
                          R"({"interval": "often"})", R"({"scheme": "ftp"})", R"({"ports": 1})", R"([])"})
    EXPECT_FALSE(kind.ValidateParams(bad).ok()) << bad;
}

TEST_F(MonitoringTargets, PrometheusDownIsTransient) {
  harness_.settings()["observability.prometheus_url"] = "http://127.0.0.1:1";
  auto answer = harness_.Apply(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, answer.status) << answer.message;
}

TEST_F(MonitoringTargets, MissingTargetsFolderIsRefused) {
  harness_.settings()["observability.targets_dir"] = targets_dir_ + "/no-such-folder";
  auto answer = harness_.Apply(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_INVALID_ARGUMENT, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("observability.targets_dir")) << answer.message;
}

}  // namespace
}  // namespace matih::testing
