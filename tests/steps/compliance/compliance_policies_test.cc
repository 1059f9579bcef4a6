// Step 48 (apply-compliance-policies): Kyverno Policy objects in the tenant's namespace and the
// compliance labels on its Namespace, in a real GitOps repository. There is no offline schema
// package for Kyverno, so the policies are checked STRUCTURALLY here (apiVersion, kind,
// namespace, validationFailureAction, a match and a validate pattern in every rule, and the
// patterns themselves); the namespace patch is checked by building the tenant's folder with
// `kubectl kustomize` (when kubectl is on PATH).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>

#include "common/yaml_json.h"
#include "steps/step_harness.h"

namespace matih::testing {
namespace {

constexpr const char* kStep = "apply-compliance-policies";

class CompliancePolicies : public ::testing::Test {
 protected:
  void SetUp() override {
    tenant_ = StepHarness::MakeTenant("starter");
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-namespace", tenant_).status);
  }
  std::string Repo() { return harness_.settings()["gitops.repository"]; }
  std::string Git(const std::string& args) {
    std::string out;
    RunCommand("git -C '" + Repo() + "' " + args, &out);
    return out;
  }
  // The file of the tenant at the branch tip, or "" when there is none.
  std::string FileAtTip(const TestTenant& t, const std::string& name) {
    std::string out;
    if (RunCommand("git -C '" + Repo() + "' show main:tenants/" + t.view.slug + "/" + name, &out) != 0)
      return "";
    return out;
  }
  std::vector<nlohmann::json> Policies(const TestTenant& t) {
    return plugins::ParseYamlDocuments(FileAtTip(t, std::string(kStep) + ".yaml"));
  }
  void HandCommit(const std::string& path, const std::optional<std::string>& text) {
    const std::string full = Repo() + "/" + path;
    if (text)
      std::ofstream(full) << *text;
    else
      std::filesystem::remove(full);
    ASSERT_EQ(0, RunCommand("git -C '" + Repo() + "' add -A && git -C '" + Repo() +
                            "' -c user.name=op -c user.email=op@x commit -qm 'hand edit'"));
  }

  StepHarness harness_;
  TestTenant tenant_;
};

TEST_F(CompliancePolicies, AbsentThenAppliedThenInSync) {
  auto absent = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_ABSENT, absent.status);
  EXPECT_TRUE(absent.outputs.empty()) << "nothing to adopt, no outputs";
  auto applied = harness_.Apply(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, applied.status) << applied.message;
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
  EXPECT_EQ(applied.outputs, observed.outputs) << "adoptable: an in-sync observe reports the apply's outputs";
  EXPECT_EQ("require-labels,disallow-privileged-containers,restrict-image-registries,require-resource-limits",
            tenant_.outputs[kStep]["policies"]);
}

TEST_F(CompliancePolicies, PoliciesAreStructurallyValidKyvernoPolicies) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  const auto docs = Policies(tenant_);
  ASSERT_EQ(4u, docs.size());
  for (const auto& p : docs) {
    SCOPED_TRACE(p.dump());
    EXPECT_EQ("kyverno.io/v1", p["apiVersion"]);
    EXPECT_EQ("Policy", p["kind"]);
    EXPECT_EQ("tenant-" + tenant_.view.slug, p["metadata"]["namespace"]);
    EXPECT_EQ(tenant_.view.slug, p["metadata"]["labels"]["matih.ai/tenant-slug"]);
    EXPECT_EQ("Enforce", p["spec"]["validationFailureAction"]);
    ASSERT_TRUE(p["spec"]["rules"].is_array());
    ASSERT_FALSE(p["spec"]["rules"].empty());
    for (const auto& rule : p["spec"]["rules"]) {
      EXPECT_TRUE(rule["name"].is_string());
      EXPECT_EQ("Pod", rule["match"]["any"][0]["resources"]["kinds"][0]);
      EXPECT_TRUE(rule["validate"]["message"].is_string());
      EXPECT_TRUE(rule["validate"]["pattern"].is_object());
    }
  }
  const auto& privileged = docs[1]["spec"]["rules"][0]["validate"]["pattern"]["spec"];
  EXPECT_EQ("false", privileged["containers"][0]["=(securityContext)"]["=(privileged)"])
      << "a string, as Kyverno wants";
  EXPECT_EQ("registry.matih.ai/* | ghcr.io/matih-ai/*",
            docs[2]["spec"]["rules"][0]["validate"]["pattern"]["spec"]["containers"][0]["image"]);
  const auto& limits =
      docs[3]["spec"]["rules"][0]["validate"]["pattern"]["spec"]["containers"][0]["resources"];
  EXPECT_EQ("?*", limits["limits"]["memory"]);
  EXPECT_EQ("?*", limits["requests"]["cpu"]);
}

TEST_F(CompliancePolicies, NamespaceLabelsArePatchedOntoStep7sNamespace) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  const std::string patch = FileAtTip(tenant_, std::string(kStep) + "-namespace-labels.patch.yaml");
  EXPECT_NE(std::string::npos, patch.find("matih.ai/compliance-profile: \"shared-baseline\"")) << patch;
  std::string out;
  if (RunCommand("command -v kubectl", &out) != 0)
    GTEST_SKIP() << "kubectl is not on PATH: kustomize build skipped";
  ASSERT_EQ(0, RunCommand("kubectl kustomize '" + Repo() + "/tenants/" + tenant_.view.slug + "'", &out))
      << out;
  const auto docs = plugins::ParseYamlDocuments(out);
  int namespaces = 0, policies = 0;
  for (const auto& d : docs) {
    if (d["kind"] == "Namespace") {
      ++namespaces;
      EXPECT_EQ("shared-baseline", d["metadata"]["labels"]["matih.ai/compliance-profile"]);
      EXPECT_EQ("enforce", d["metadata"]["labels"]["matih.ai/policy-enforcement"]);
      EXPECT_EQ(tenant_.view.slug, d["metadata"]["labels"]["matih.ai/tenant-slug"]) << "step 7's labels stay";
    }
    policies += d["kind"] == "Policy";
  }
  EXPECT_EQ(1, namespaces);
  EXPECT_EQ(4, policies);
}

TEST_F(CompliancePolicies, EnterpriseAllowsItsOwnRegistry) {
  TestTenant big = StepHarness::MakeTenant("enterprise", "big");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, big).status);
  EXPECT_EQ("registry.matih.ai/* | ghcr.io/matih-ai/* | *.azurecr.io/*",
            Policies(big)[2]["spec"]["rules"][0]["validate"]["pattern"]["spec"]["containers"][0]["image"]);
}

TEST_F(CompliancePolicies, ApplyingAgainWritesNothing) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  const std::string head = Git("rev-parse main");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(head, Git("rev-parse main"));
}

TEST_F(CompliancePolicies, PolicyEditedByHandIsDriftedAndRepaired) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  const std::string path = "tenants/" + tenant_.view.slug + "/" + kStep + ".yaml";
  std::string text = FileAtTip(tenant_, std::string(kStep) + ".yaml");
  const auto at = text.find("validationFailureAction: \"Enforce\"");
  ASSERT_NE(std::string::npos, at) << text;
  text.replace(at, 35, "validationFailureAction: \"Audit\"");
  HandCommit(path, text);
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_TRUE(observed.outputs.empty()) << "a drifted observe reports no outputs";
  EXPECT_EQ(0u, observed.message.rfind("policies: ", 0)) << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ("Enforce", Policies(tenant_)[0]["spec"]["validationFailureAction"]);
}

TEST_F(CompliancePolicies, DeletedNamespaceLabelsAreDriftedAndRepaired) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  HandCommit("tenants/" + tenant_.view.slug + "/" + kStep + "-namespace-labels.patch.yaml", std::nullopt);
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  // The folder's kustomization.yaml still lists the deleted patch: that is drift of its own.
  EXPECT_NE(std::string::npos, observed.message.find("namespace labels: missing")) << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(CompliancePolicies, RemoveLeavesNothingAndCanBeRepeated) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  EXPECT_EQ("", FileAtTip(tenant_, std::string(kStep) + ".yaml"));
  EXPECT_EQ("", FileAtTip(tenant_, std::string(kStep) + "-namespace-labels.patch.yaml"));
  EXPECT_NE("", FileAtTip(tenant_, "create-namespace.yaml")) << "step 7's Namespace stays";
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
}

TEST_F(CompliancePolicies, TwoTenantsAreIsolated) {
  TestTenant other = StepHarness::MakeTenant("free", "other");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, other).status);
  for (const auto& p : Policies(other)) EXPECT_EQ("tenant-" + other.view.slug, p["metadata"]["namespace"]);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, other).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(CompliancePolicies, BadParamsAreRefusedAtCatalogLoad) {
  const auto& kind = harness_.KindOf(kStep);
  EXPECT_TRUE(kind.ValidateParams(harness_.Step(kStep).params_json).ok());
  for (const char* bad : {
           R"({})",
           R"({"tiers": {"gold": {"profile": "p", "action": "Enforce", "registries": ["r.io/"]}}})",
           R"({"tiers": {"free": {"profile": "P P", "action": "Enforce", "registries": ["r.io/"]}}})",
           R"({"tiers": {"free": {"profile": "p", "action": "Block", "registries": ["r.io/"]}}})",
           R"({"tiers": {"free": {"profile": "p", "action": "Enforce", "registries": []}}})",
           R"({"tiers": {"free": {"profile": "p", "action": "Enforce", "registries": ["r.io/* | evil/"]}}})",
           R"({"tiers": {"free": {"profile": "p", "action": "Enforce", "registries": ["r.io"]}}})",
           R"({"tiers": {"free": {"profile": "p", "action": "Enforce", "registries": ["r.io/"], "x": 1}}})",
       })
    EXPECT_FALSE(kind.ValidateParams(bad).ok()) << bad;
}

TEST_F(CompliancePolicies, UnreachableApiServerIsTransient) {
  harness_.settings()["kubernetes.delivery"] = "api";
  harness_.settings()["kubernetes.api_url"] = "http://127.0.0.1:1";
  harness_.settings()["kubernetes.allow_http"] = "true";
  const std::string token = harness_.TempPath("token").string();
  std::ofstream(token) << "t\n";
  harness_.settings()["kubernetes.token_file"] = token;
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Apply(kStep, tenant_).status);
}

}  // namespace
}  // namespace matih::testing
