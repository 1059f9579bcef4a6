// Steps 7-13 (kind kubernetes.object) delivered with server-side apply to FakeKubeApiServer (a
// fake: no kube-apiserver can run here). Checks method, path, content type, field manager and
// force; drift found by comparing the fields we apply; DELETE with foreground propagation; step
// 12 owning only its labels on step 7's Namespace; errors mapped to transient or permanent.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fakes/fake_kube_api_server.h"
#include "steps/step_harness.h"

namespace matih::testing {
namespace {

const std::vector<std::string> kSteps = {
    "create-namespace",       "create-resource-quota",      "create-limit-range",  "create-network-policy",
    "create-service-account", "create-pod-security-policy", "create-rbac-bindings"};

class KubernetesApi : public ::testing::Test {
 protected:
  void SetUp() override {
    tenant_ = StepHarness::MakeTenant("professional");
    token_file_ = harness_.TempPath("token").string();
    std::ofstream(token_file_) << "s3cr3t-service-account-token\n";
    server_.RequireBearerToken("s3cr3t-service-account-token");
    auto& s = harness_.settings();
    s["kubernetes.delivery"] = "api";
    s["kubernetes.api_url"] = server_.url();
    s["kubernetes.allow_http"] = "true";
    s["kubernetes.token_file"] = token_file_;
    s["kubernetes.timeout_ms"] = "5000";
  }
  std::string Ns() { return "/api/v1/namespaces/tenant-" + tenant_.view.slug; }
  std::string Quota() { return Ns() + "/resourcequotas/tenant-quota"; }
  void Apply(const std::string& step) {
    auto answer = harness_.Apply(step, tenant_);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << step << ": " << answer.message;
  }
  void ApplyAll() {
    for (const auto& step : kSteps) Apply(step);
  }

  FakeKubeApiServer server_;
  StepHarness harness_;
  TestTenant tenant_;
  std::string token_file_;
};

TEST_F(KubernetesApi, EachStepIsServerSideAppliedWithItsFieldManagerThenInSync) {
  for (const auto& step : kSteps) {
    SCOPED_TRACE(step);
    const bool patch = step == "create-pod-security-policy";
    // Step 12 patches step 7's Namespace: it exists, without the labels, so it is drifted.
    EXPECT_EQ(patch ? MATIH_STATUS_DRIFTED : MATIH_STATUS_ABSENT, harness_.Observe(step, tenant_).status);
    const size_t before = server_.requests().size();
    Apply(step);
    auto requests = server_.requests();
    ASSERT_GT(requests.size(), before);
    for (size_t i = before; i < requests.size(); ++i) {
      EXPECT_EQ("PATCH", requests[i].method);
      EXPECT_EQ("application/apply-patch+yaml", requests[i].content_type);
      EXPECT_EQ(patch ? "matih-provisioner-create-pod-security-policy" : "matih-provisioner",
                requests[i].field_manager);
      EXPECT_EQ("false", requests[i].force);
      EXPECT_EQ("Bearer s3cr3t-service-account-token", requests[i].authorization);
    }
    auto observed = harness_.Observe(step, tenant_);
    EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
  }
  EXPECT_EQ(12u, server_.object_count());
  EXPECT_TRUE(server_
                  .Get("/apis/networking.k8s.io/v1/namespaces/tenant-" + tenant_.view.slug +
                       "/networkpolicies/default-deny")
                  .has_value());
  EXPECT_TRUE(server_
                  .Get("/apis/rbac.authorization.k8s.io/v1/namespaces/tenant-" + tenant_.view.slug +
                       "/rolebindings/tenant-admins")
                  .has_value());
}

TEST_F(KubernetesApi, ApplyingAgainChangesNothing) {
  ApplyAll();
  const auto before = server_.Get(Quota())->at("metadata").at("resourceVersion");
  const auto ns_before = server_.Get(Ns())->at("metadata").at("resourceVersion");
  ApplyAll();
  EXPECT_EQ(before, server_.Get(Quota())->at("metadata").at("resourceVersion"));
  EXPECT_EQ(ns_before, server_.Get(Ns())->at("metadata").at("resourceVersion"));
}

TEST_F(KubernetesApi, NamespaceCarriesBothStepsLabelsAndRemovingStep12RemovesOnlyItsOwn) {
  Apply("create-namespace");
  Apply("create-pod-security-policy");
  auto ns = *server_.Get(Ns());
  EXPECT_EQ("restricted", ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]);
  EXPECT_EQ(tenant_.view.id, ns["metadata"]["labels"]["matih.ai/tenant-id"]);
  EXPECT_EQ(2u, ns["metadata"]["managedFields"].size());
  // Step 7 applying again keeps step 12's labels.
  Apply("create-namespace");
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-pod-security-policy", tenant_).status);

  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove("create-pod-security-policy", tenant_).status);
  ns = *server_.Get(Ns());
  EXPECT_FALSE(ns["metadata"]["labels"].contains("pod-security.kubernetes.io/enforce"));
  EXPECT_EQ(tenant_.view.slug, ns["metadata"]["labels"]["matih.ai/tenant-slug"]);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-namespace", tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove("create-pod-security-policy", tenant_).status);
}

TEST_F(KubernetesApi, HandEditIsDriftedAndAForcedApplyTakesTheFieldBack) {
  harness_.settings()["kubernetes.force_conflicts"] = "true";
  ApplyAll();
  server_.Edit(Quota(), "kubectl-edit", {{"spec", {{"hard", {{"limits.cpu", "40"}}}}}});
  auto observed = harness_.Observe("create-resource-quota", tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("spec.hard.limits.cpu: have 40, want 32"))
      << observed.message;
  Apply("create-resource-quota");
  EXPECT_EQ("true", server_.requests().back().force);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-resource-quota", tenant_).status);
  EXPECT_EQ("32", server_.Get(Quota())->at("spec").at("hard").at("limits.cpu"));
}

TEST_F(KubernetesApi, EveryStepFindsAHandEditAndRepairsIt) {
  harness_.settings()["kubernetes.force_conflicts"] = "true";
  ApplyAll();
  const std::string ns = "tenant-" + tenant_.view.slug;
  const std::vector<std::pair<std::string, std::string>> objects = {
      {"create-namespace", Ns()},
      {"create-resource-quota", Quota()},
      {"create-limit-range", Ns() + "/limitranges/tenant-limits"},
      {"create-network-policy", "/apis/networking.k8s.io/v1/namespaces/" + ns + "/networkpolicies/allow-dns"},
      {"create-service-account", Ns() + "/serviceaccounts/tenant-workloads"},
      {"create-pod-security-policy", Ns()},
      {"create-rbac-bindings",
       "/apis/rbac.authorization.k8s.io/v1/namespaces/" + ns + "/roles/tenant-admin"}};
  for (const auto& [step, path] : objects) {
    SCOPED_TRACE(step);
    const bool patch = step == "create-pod-security-policy";
    const nlohmann::json labels = patch ? nlohmann::json{{"pod-security.kubernetes.io/enforce", "privileged"}}
                                        : nlohmann::json{{"app.kubernetes.io/managed-by", "kubectl"}};
    server_.Edit(path, "kubectl-edit", {{"metadata", {{"labels", labels}}}});
    auto observed = harness_.Observe(step, tenant_);
    ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
    EXPECT_NE(std::string::npos, observed.message.find(patch ? "have privileged" : "have kubectl"))
        << observed.message;
    Apply(step);
    EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(step, tenant_).status);
  }
}

TEST_F(KubernetesApi, ConflictWithAnotherManagerWithoutForceIsPermanent) {
  ApplyAll();
  server_.Edit(Quota(), "kubectl-edit", {{"spec", {{"hard", {{"limits.cpu", "40"}}}}}});
  auto answer = harness_.Apply("create-resource-quota", tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("kubernetes.force_conflicts")) << answer.message;
}

TEST_F(KubernetesApi, RemoveDeletesWithForegroundPropagationAndCanBeRepeated) {
  ApplyAll();
  for (auto it = kSteps.rbegin(); it != kSteps.rend(); ++it) {
    SCOPED_TRACE(*it);
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(*it, tenant_).status);
    if (*it != "create-pod-security-policy") {
      EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(*it, tenant_).status);
    }
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(*it, tenant_).status);
  }
  EXPECT_EQ(0u, server_.object_count());
  int deletes = 0;
  for (const auto& r : server_.requests())
    if (r.method == "DELETE") {
      ++deletes;
      EXPECT_EQ("Foreground", r.propagation_policy) << r.path;
    }
  EXPECT_GE(deletes, 12);
}

TEST_F(KubernetesApi, ServerErrorsAndThrottlingAreTransient) {
  server_.FailNext(503);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Apply("create-namespace", tenant_).status);
  server_.FailNext(429);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Observe("create-namespace", tenant_).status);
  Apply("create-namespace");
}

TEST_F(KubernetesApi, UnreachableServerIsTransient) {
  harness_.settings()["kubernetes.api_url"] = "http://127.0.0.1:1";
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Apply("create-namespace", tenant_).status);
}

TEST_F(KubernetesApi, RefusedTokenIsPermissionDeniedAndNeverEchoed) {
  std::ofstream(token_file_) << "wrong-token-value\n";
  auto answer = harness_.Apply("create-namespace", tenant_);
  EXPECT_EQ(MATIH_STATUS_PERMISSION_DENIED, answer.status);
  EXPECT_EQ(std::string::npos, answer.message.find("wrong-token-value")) << answer.message;
}

TEST_F(KubernetesApi, KubeconfigWithATokenIsUsed) {
  auto& s = harness_.settings();
  s.erase("kubernetes.api_url");
  s.erase("kubernetes.token_file");
  const std::string kubeconfig = harness_.TempPath("kubeconfig").string();
  std::ofstream(kubeconfig)
      << "apiVersion: v1\nkind: Config\ncurrent-context: shared\n"
      << "clusters:\n- name: shared-cluster\n  cluster:\n    server: " << server_.url() << "\n"
      << "contexts:\n- name: shared\n  context:\n    cluster: shared-cluster\n    user: matih\n"
      << "users:\n- name: matih\n  user:\n    token: s3cr3t-service-account-token\n";
  s["kubernetes.kubeconfig"] = kubeconfig;
  Apply("create-namespace");
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-namespace", tenant_).status);
}

TEST_F(KubernetesApi, PlainHttpServerIsRefusedUnlessAllowed) {
  harness_.settings().erase("kubernetes.allow_http");
  auto answer = harness_.Apply("create-namespace", tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("https://")) << answer.message;
  EXPECT_EQ(0u, server_.requests().size());
}

// A throwaway CA with a server certificate for 127.0.0.1 and a client certificate, made with the
// openssl CLI.
class KubernetesApiTls : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = harness_.TempPath("pki").string();
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/server.ext") << "subjectAltName=IP:127.0.0.1\n";
    std::ofstream(dir_ + "/client.ext") << "extendedKeyUsage=clientAuth\n";
    const std::string d = "'" + dir_ + "'";
    for (const std::string& cmd :
         {"openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=fake-cluster-ca -keyout " + d +
              "/ca.key -out " + d + "/ca.crt",
          "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " + d + "/server.key -out " + d +
              "/server.csr",
          "openssl x509 -req -days 1 -in " + d + "/server.csr -CA " + d + "/ca.crt -CAkey " + d +
              "/ca.key -CAcreateserial -extfile " + d + "/server.ext -out " + d + "/server.crt",
          "openssl req -newkey rsa:2048 -nodes -subj /CN=matih-provisioner -keyout " + d +
              "/client.key -out " + d + "/client.csr",
          "openssl x509 -req -days 1 -in " + d + "/client.csr -CA " + d + "/ca.crt -CAkey " + d +
              "/ca.key -CAcreateserial -extfile " + d + "/client.ext -out " + d + "/client.crt"}) {
      std::string out;
      ASSERT_EQ(0, RunCommand(cmd, &out)) << cmd << ": " << out;
    }
    tenant_ = StepHarness::MakeTenant("free");
    harness_.settings()["kubernetes.delivery"] = "api";
  }
  std::string Base64File(const std::string& name) {
    std::string out;
    EXPECT_EQ(0, RunCommand("base64 -w0 '" + dir_ + "/" + name + "'", &out));
    return out;
  }

  StepHarness harness_;
  TestTenant tenant_;
  std::string dir_;
};

TEST_F(KubernetesApiTls, ServerCertificateIsVerifiedAgainstTheClusterCa) {
  FakeKubeApiServer server(FakeKubeApiServer::TlsFiles{dir_ + "/server.crt", dir_ + "/server.key", ""});
  server.RequireBearerToken("tls-token");
  const std::string token_file = dir_ + "/token";
  std::ofstream(token_file) << "tls-token";
  auto& s = harness_.settings();
  s["kubernetes.api_url"] = server.url();
  s["kubernetes.token_file"] = token_file;

  // Without the cluster CA the certificate is not trusted: permanent, and nothing was sent.
  auto refused = harness_.Apply("create-namespace", tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, refused.status) << refused.message;
  EXPECT_EQ(0u, server.requests().size());

  s["kubernetes.ca_file"] = dir_ + "/ca.crt";
  auto answer = harness_.Apply("create-namespace", tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-namespace", tenant_).status);
}

TEST_F(KubernetesApiTls, KubeconfigClientCertificateDataAuthenticates) {
  FakeKubeApiServer server(
      FakeKubeApiServer::TlsFiles{dir_ + "/server.crt", dir_ + "/server.key", dir_ + "/ca.crt"});
  const std::string kubeconfig = dir_ + "/kubeconfig";
  std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                            << "clusters:\n- name: k\n  cluster:\n    server: " << server.url()
                            << "\n    certificate-authority-data: " << Base64File("ca.crt") << "\n"
                            << "contexts:\n- name: c\n  context: {cluster: k, user: u}\n"
                            << "users:\n- name: u\n  user:\n    client-certificate-data: "
                            << Base64File("client.crt")
                            << "\n    client-key-data: " << Base64File("client.key") << "\n";
  const std::string anonymous = dir_ + "/kubeconfig-anonymous";
  std::ofstream(anonymous) << "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                           << "clusters:\n- name: k\n  cluster:\n    server: " << server.url()
                           << "\n    certificate-authority: ca.crt\n"
                           << "contexts:\n- name: c\n  context: {cluster: k, user: u}\n"
                           << "users:\n- name: u\n  user: {}\n";
  harness_.settings()["kubernetes.kubeconfig"] = anonymous;
  EXPECT_NE(MATIH_STATUS_OK, harness_.Apply("create-namespace", tenant_).status) << "no client certificate";
  EXPECT_EQ(0u, server.requests().size());

  harness_.settings()["kubernetes.kubeconfig"] = kubeconfig;
  auto answer = harness_.Apply("create-namespace", tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_TRUE(server.Get("/api/v1/namespaces/tenant-" + tenant_.view.slug).has_value());
}

// A Secret's drift names the path, never the value it has or should have.
TEST_F(KubernetesApi, DriftOfASecretNeverShowsItsValues) {
  const auto templates = harness_.TempPath("secret-templates");
  std::filesystem::create_directories(templates);
  std::ofstream(templates / "secret.yaml") << "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tenant-db\n"
                                              "  namespace: \"{{namespace}}\"\nstringData:\n"
                                              "  password: template-value-4711\n";
  Apply("create-namespace");  // the Secret's namespace
  harness_.SetParams("create-resource-quota",
                     R"({"template": "secret.yaml", "templates_dir": ")" + templates.string() + R"("})");
  Apply("create-resource-quota");
  const std::string path = Ns() + "/secrets/tenant-db";
  ASSERT_TRUE(server_.Get(path).has_value());
  server_.Edit(path, "kubectl-edit", {{"stringData", {{"password", "hand-set-value-0815"}}}});

  auto observed = harness_.Observe("create-resource-quota", tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("stringData.password: differs (value not shown)"))
      << observed.message;
  EXPECT_EQ(std::string::npos, observed.message.find("hand-set-value-0815")) << observed.message;
  EXPECT_EQ(std::string::npos, observed.message.find("template-value-4711")) << observed.message;
}

}  // namespace
}  // namespace matih::testing
