// Steps 7-13 (kind kubernetes.object) delivered to a real git repository (libgit2), checked with
// the git CLI: one commit per applied step naming tenant, step and run; nothing written when in
// sync; hand edits found and repaired; a bare remote receives the commits; remove deletes and
// commits; parallel tenants lose nothing; kustomize folds step 12's labels into step 7's Namespace.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/yaml_json.h"
#include "steps/step_harness.h"

namespace matih::testing {
namespace {

const std::vector<std::string> kSteps = {
    "create-namespace",       "create-resource-quota",      "create-limit-range",  "create-network-policy",
    "create-service-account", "create-pod-security-policy", "create-rbac-bindings"};

class KubernetesGitOps : public ::testing::Test {
 protected:
  void SetUp() override { tenant_ = StepHarness::MakeTenant("free"); }

  std::string repo() { return harness_.settings()["gitops.repository"]; }
  std::string Git(const std::string& args, const std::string& dir = "") {
    std::string out;
    int rc = RunCommand("git -C '" + (dir.empty() ? repo() : dir) + "' " + args, &out);
    EXPECT_EQ(0, rc) << "git " << args << ": " << out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  std::string Head() {
    std::string out;
    if (!std::filesystem::exists(repo()) ||
        RunCommand("git -C '" + repo() + "' rev-parse -q --verify main", &out) != 0)
      return "";
    return out.substr(0, 40);
  }
  std::string FileAtHead(const std::string& path) { return Git("show main:" + path); }
  std::string Folder(const TestTenant& t) { return "tenants/" + t.view.slug; }
  void ApplyAll(TestTenant& t) {
    for (const auto& step : kSteps) {
      auto answer = harness_.Apply(step, t);
      ASSERT_EQ(MATIH_STATUS_OK, answer.status) << step << ": " << answer.message;
    }
  }

  StepHarness harness_;
  TestTenant tenant_;
};

TEST_F(KubernetesGitOps, EachStepCommitsOnceNamingTenantStepAndRunThenIsInSync) {
  for (const auto& step : kSteps) {
    SCOPED_TRACE(step);
    EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(step, tenant_).status);
    const std::string before = Head();
    auto answer = harness_.Apply(step, tenant_);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
    const std::string after = Head();
    EXPECT_NE(before, after);
    EXPECT_EQ(0u, Git("log -1 --format=%s main")
                      .rfind("tenant " + tenant_.view.slug + ": step " + step + " (run test-run-"));
    EXPECT_EQ("tenant-" + tenant_.view.slug, answer.outputs["namespace"]);
    EXPECT_FALSE(answer.outputs["objects"].empty());
    auto observed = harness_.Observe(step, tenant_);
    EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
    EXPECT_EQ(answer.outputs, observed.outputs)
        << "adoptable: an in-sync observe reports the apply's outputs";
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(step, tenant_).status);
    EXPECT_EQ(after, Head()) << "a second apply must not commit";
  }
  EXPECT_EQ("7", Git("rev-list --count main"));
  EXPECT_EQ("", Git("status --porcelain")) << "the work tree follows the commits";
}

TEST_F(KubernetesGitOps, ObserveAndRemoveBeforeAnyApplyCreateNothing) {
  for (const auto& step : kSteps) {
    auto observed = harness_.Observe(step, tenant_);
    EXPECT_EQ(MATIH_STATUS_ABSENT, observed.status) << step;
    EXPECT_TRUE(observed.outputs.empty()) << step << ": nothing to adopt, no outputs";
    EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(step, tenant_).status) << step;
  }
  EXPECT_FALSE(std::filesystem::exists(repo()));
}

TEST_F(KubernetesGitOps, NamespaceCarriesTheTenantLabels) {
  ApplyAll(tenant_);
  auto ns = plugins::ParseYamlDocuments(FileAtHead(Folder(tenant_) + "/create-namespace.yaml")).at(0);
  EXPECT_EQ("tenant-" + tenant_.view.slug, ns["metadata"]["name"]);
  const auto& labels = ns["metadata"]["labels"];
  EXPECT_EQ(tenant_.view.id, labels["matih.ai/tenant-id"]);
  EXPECT_EQ(tenant_.view.slug, labels["matih.ai/tenant-slug"]);
  EXPECT_EQ("free", labels["matih.ai/tier"]);
  EXPECT_EQ("eu-west", labels["matih.ai/region"]);
  EXPECT_EQ("matih-provisioner", labels["app.kubernetes.io/managed-by"]);
}

TEST_F(KubernetesGitOps, QuotaAndLimitsFollowTheTierAndEnterpriseSpec) {
  struct Expect {
    const char* tier;
    const char* cpu_requests;
    const char* cpu_limits;
    const char* memory_limits;
    const char* pvcs;
  };
  for (const Expect& e : {Expect{"free", "2", "4", "8Gi", "5"}, Expect{"starter", "8", "16", "32Gi", "20"},
                          Expect{"professional", "16", "32", "64Gi", "50"},
                          Expect{"enterprise", "64", "128", "512Gi", "200"}}) {
    SCOPED_TRACE(e.tier);
    TestTenant t = StepHarness::MakeTenant(e.tier);
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-resource-quota", t).status);
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-limit-range", t).status);
    auto quota = plugins::ParseYamlDocuments(FileAtHead(Folder(t) + "/create-resource-quota.yaml")).at(0);
    const auto& hard = quota["spec"]["hard"];
    EXPECT_EQ(e.cpu_requests, hard["requests.cpu"]);
    EXPECT_EQ(e.cpu_limits, hard["limits.cpu"]);
    EXPECT_EQ(e.memory_limits, hard["limits.memory"]);
    EXPECT_EQ(e.pvcs, hard["persistentvolumeclaims"]);
    auto limits = plugins::ParseYamlDocuments(FileAtHead(Folder(t) + "/create-limit-range.yaml")).at(0);
    EXPECT_FALSE(limits["spec"]["limits"][0]["default"]["cpu"].get<std::string>().empty());
  }
}

TEST_F(KubernetesGitOps, HandEditIsDriftedWithADiffAndApplyRepairsIt) {
  ApplyAll(tenant_);
  const std::string file = Folder(tenant_) + "/create-resource-quota.yaml";
  const std::string good = FileAtHead(file) + "\n";
  std::string edited = good;
  edited.replace(edited.find("limits.cpu: \"4\""), 15, "limits.cpu: \"40\"");
  std::ofstream(repo() + "/" + file) << edited;
  Git("-c user.name=operator -c user.email=op@example.com commit -qam 'raise quota by hand'");
  const std::string hand_commit = Head();

  auto observed = harness_.Observe("create-resource-quota", tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("-'limits.cpu: \"40\"'")) << observed.message;
  EXPECT_NE(std::string::npos, observed.message.find("+'limits.cpu: \"4\"'")) << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-resource-quota", tenant_).status);
  EXPECT_NE(hand_commit, Head());
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-resource-quota", tenant_).status);
  EXPECT_EQ(good, FileAtHead(file) + "\n");
}

TEST_F(KubernetesGitOps, EveryStepFindsAHandEditAndRepairsIt) {
  ApplyAll(tenant_);
  for (const auto& step : kSteps) {
    SCOPED_TRACE(step);
    const bool patch = step == "create-pod-security-policy";
    const std::string file = Folder(tenant_) + "/" + step + (patch ? ".patch.yaml" : ".yaml");
    std::string text = FileAtHead(file) + "\n";
    const std::string from = patch ? "\"restricted\"" : "\"matih-provisioner\"";
    const std::string to = patch ? "\"privileged\"" : "\"kubectl\"";
    ASSERT_NE(std::string::npos, text.find(from));
    text.replace(text.find(from), from.size(), to);
    std::ofstream(repo() + "/" + file) << text;
    Git("-c user.name=operator -c user.email=op@example.com commit -qam 'hand edit of " + step + "'");
    auto observed = harness_.Observe(step, tenant_);
    ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
    EXPECT_NE(std::string::npos, observed.message.find(to)) << observed.message;
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(step, tenant_).status);
    EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(step, tenant_).status);
  }
}

TEST_F(KubernetesGitOps, DeletedFileIsAbsentAndApplyRestoresIt) {
  ApplyAll(tenant_);
  Git("-c user.name=operator -c user.email=op@example.com rm -q " + Folder(tenant_) +
      "/create-service-account.yaml");
  Git("-c user.name=operator -c user.email=op@example.com commit -qm 'oops'");
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe("create-service-account", tenant_).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-service-account", tenant_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-service-account", tenant_).status);
}

TEST_F(KubernetesGitOps, BareRemoteReceivesTheCommits) {
  const std::string remote = harness_.TempPath("remote.git").string();
  ASSERT_EQ(0, RunCommand("git init -q --bare '" + remote + "'"));
  harness_.settings()["gitops.remote"] = remote;
  ApplyAll(tenant_);
  EXPECT_EQ(Head(), Git("rev-parse main", remote));
  EXPECT_EQ("7", Git("rev-list --count main", remote));
  EXPECT_NE(std::string::npos, Git("log --format=%s main", remote).find("step create-rbac-bindings"));
  for (const auto& step : kSteps)
    EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(step, tenant_).status) << step;
}

TEST_F(KubernetesGitOps, UnreachableRemoteIsTransientAndTheUnpushedCommitIsDrift) {
  ApplyAll(tenant_);
  const std::string remote = harness_.TempPath("later.git").string();
  harness_.settings()["gitops.remote"] = remote;  // does not exist yet
  TestTenant other = StepHarness::MakeTenant("starter");
  auto answer = harness_.Apply("create-namespace", other);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, answer.status) << answer.message;
  auto observed = harness_.Observe("create-namespace", other);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("not pushed to the remote yet")) << observed.message;
  ASSERT_EQ(0, RunCommand("git init -q --bare '" + remote + "'"));
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-namespace", other).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-namespace", other).status);
  EXPECT_EQ(Head(), Git("rev-parse main", remote));
}

TEST_F(KubernetesGitOps, KustomizeFoldsPodSecurityLabelsIntoTheNamespace) {
  ApplyAll(tenant_);
  std::string out;
  ASSERT_EQ(0, RunCommand("kubectl kustomize '" + repo() + "/" + Folder(tenant_) + "'", &out)) << out;
  auto docs = plugins::ParseYamlDocuments(out);
  EXPECT_EQ(12u, docs.size()) << out;
  int namespaces = 0;
  for (const auto& d : docs) {
    if (d["kind"] != "Namespace") continue;
    ++namespaces;
    const auto& labels = d["metadata"]["labels"];
    EXPECT_EQ("restricted", labels["pod-security.kubernetes.io/enforce"]);
    EXPECT_EQ("restricted", labels["pod-security.kubernetes.io/warn"]);
    EXPECT_EQ(tenant_.view.id, labels["matih.ai/tenant-id"]);
  }
  EXPECT_EQ(1, namespaces);
}

TEST_F(KubernetesGitOps, RemoveDeletesEachStepsFileAndCanBeRepeated) {
  ApplyAll(tenant_);
  for (auto it = kSteps.rbegin(); it != kSteps.rend(); ++it) {
    SCOPED_TRACE(*it);
    const std::string before = Head();
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(*it, tenant_).status);
    EXPECT_NE(before, Head());
    EXPECT_EQ(0u,
              Git("log -1 --format=%s main").rfind("tenant " + tenant_.view.slug + ": remove step " + *it));
    EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(*it, tenant_).status);
    const std::string removed = Head();
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(*it, tenant_).status);
    EXPECT_EQ(removed, Head()) << "removing again must not commit";
  }
  EXPECT_EQ("", Git("ls-tree -r --name-only main " + Folder(tenant_)));
  EXPECT_FALSE(std::filesystem::exists(repo() + "/" + Folder(tenant_)));
}

TEST_F(KubernetesGitOps, ParallelTenantsCommitWithoutLosingAnything) {
  constexpr int kTenants = 6;
  std::vector<TestTenant> tenants;
  for (int i = 0; i < kTenants; ++i)
    tenants.push_back(StepHarness::MakeTenant(i % 2 ? "free" : "professional"));
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kTenants);
  for (int i = 0; i < kTenants; ++i)
    threads.emplace_back([&, i] {
      for (const auto& step : kSteps) {
        auto answer = harness_.Apply(step, tenants[i]);
        if (answer.status != MATIH_STATUS_OK) failures[i] += step + ": " + answer.message + "; ";
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& f : failures) EXPECT_EQ("", f);
  EXPECT_EQ(std::to_string(kTenants * kSteps.size()), Git("rev-list --count main"));
  for (auto& t : tenants) {
    std::string files = Git("ls-tree --name-only main " + Folder(t) + "/");
    EXPECT_EQ(8, std::count(files.begin(), files.end(), '\n') + 1) << files;
    for (const auto& step : kSteps) EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(step, t).status);
  }
  std::string fsck;
  EXPECT_EQ(0, RunCommand("git -C '" + repo() + "' fsck --strict", &fsck)) << fsck;
}

TEST_F(KubernetesGitOps, ValuesAreEscapedAndCannotInjectYaml) {
  auto spec = nlohmann::json::parse(tenant_.view.spec_json);
  spec["region"] = "eu\"west\n  injected: true";
  tenant_.view.spec_json = spec.dump();
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-namespace", tenant_).status);
  auto ns = plugins::ParseYamlDocuments(FileAtHead(Folder(tenant_) + "/create-namespace.yaml")).at(0);
  EXPECT_EQ("eu\"west\n  injected: true", ns["metadata"]["labels"]["matih.ai/region"]);
  EXPECT_FALSE(ns["metadata"]["labels"].contains("injected"));
}

TEST_F(KubernetesGitOps, UnknownTemplateIsAPermanentError) {
  harness_.SetParams("create-namespace", R"({"template": "missing.yaml"})");
  auto answer = harness_.Apply("create-namespace", tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("template missing.yaml")) << answer.message;
}

// Renders every step for one tenant of each tier and copies the files into MATIH_RENDER_DIR, for
// the offline schema validation (ctest steps.validate_manifests).
TEST_F(KubernetesGitOps, RendersEveryTierIntoFolder) {
  const char* env = std::getenv("MATIH_RENDER_DIR");
  const std::filesystem::path out = env ? env : harness_.TempPath("rendered");
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out);
  for (const char* tier : {"free", "starter", "professional", "enterprise"}) {
    TestTenant t = StepHarness::MakeTenant(tier, tier);
    ApplyAll(t);
    for (const auto& step : kSteps) {
      const std::string suffix = step == "create-pod-security-policy" ? ".patch.yaml" : ".yaml";
      std::ofstream(out / (std::string(tier) + "-" + step + suffix))
          << FileAtHead(Folder(t) + "/" + step + suffix) << "\n";
    }
    std::string kustomized;
    ASSERT_EQ(0, RunCommand("kubectl kustomize '" + repo() + "/" + Folder(t) + "'", &kustomized))
        << kustomized;
    std::ofstream(out / (std::string(tier) + "-kustomized.yaml")) << kustomized;
  }
  EXPECT_EQ(4u * (kSteps.size() + 1),
            static_cast<size_t>(std::distance(std::filesystem::directory_iterator(out),
                                              std::filesystem::directory_iterator())));
}

// A Secret's drift names the file, never a line of it: its values may be credentials.
TEST_F(KubernetesGitOps, DriftOfASecretNeverShowsItsValues) {
  const auto templates = harness_.TempPath("secret-templates");
  std::filesystem::create_directories(templates);
  std::ofstream(templates / "secret.yaml") << "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tenant-db\n"
                                              "  namespace: \"{{namespace}}\"\nstringData:\n"
                                              "  password: template-value-4711\n";
  harness_.SetParams("create-namespace",
                     R"({"template": "secret.yaml", "templates_dir": ")" + templates.string() + R"("})");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-namespace", tenant_).status);
  const std::string file = Folder(tenant_) + "/create-namespace.yaml";
  std::string edited = FileAtHead(file) + "\n";
  edited.replace(edited.find("template-value-4711"), 19, "hand-set-value-0815");
  std::ofstream(repo() + "/" + file) << edited;
  Git("-c user.name=operator -c user.email=op@example.com commit -qam 'set the password by hand'");

  auto observed = harness_.Observe("create-namespace", tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("lines not shown")) << observed.message;
  EXPECT_EQ(std::string::npos, observed.message.find("hand-set-value-0815")) << observed.message;
  EXPECT_EQ(std::string::npos, observed.message.find("template-value-4711")) << observed.message;
}

}  // namespace
}  // namespace matih::testing
