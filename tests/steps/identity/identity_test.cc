// Steps 18-20, 46 and 49 (plugins/identity) against the stack's real OpenID Connect provider:
// clients registered by RFC 7591 and managed by RFC 7592, real client_credentials tokens with
// the stored credentials, grants enforced by the provider (a token for another tenant's resource
// is refused), hand changes at the provider observed and repaired, removal deleting client and
// secrets, tenants isolated, unreachable provider transient, refused credentials permanent, and
// the workload identity objects delivered to a real git repository.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/http_client.h"
#include "fakes/fake_kube_api_server.h"
#include "identity/identity_provider.h"
#include "identity/pooled_http.h"
#include "plugin_host/host_services.h"
#include "steps/step_harness.h"
#include "support/stack_env.h"

namespace matih::testing {
namespace {

using plugins::identity::IdentityProvider;
using plugins::identity::PooledHttp;
using plugins::identity::ProviderSettings;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

class Identity : public ::testing::Test {
 protected:
  void SetUp() override {
    issuer_ = StackEnv::Require("MATIH_OIDC_URL");
    auto& s = harness_.settings();
    s["identity.issuer_url"] = issuer_;
    s["identity.initial_access_token"] = ReadFile(StackEnv::Require("MATIH_OIDC_INITIAL_ACCESS_TOKEN_FILE"));
    s["identity.parent_zone"] = "platform.example.test";
    s["identity.azure_subscription_id"] = "00000000-0000-0000-0000-000000000000";
    const auto sp = nlohmann::json::parse(ReadFile(StackEnv::Require("MATIH_OIDC_SERVICE_PRINCIPAL_FILE")));
    s["identity.service_principal_id"] = sp["client_id"];
    s["identity.service_principal_secret"] = sp["client_secret"];
    a_ = StepHarness::MakeTenant("free", "ida");
    b_ = StepHarness::MakeTenant("free", "idb");
  }

  IdentityProvider Idp() {
    return IdentityProvider(http_, ProviderSettings{issuer_, {}, std::chrono::seconds(5)}, "test");
  }

  // Hosts of step ABI 1.2 keep each plugin's secrets under "<plugin>/"; older ones under the
  // bare name. The name the secret is stored under (the namespaced one when there is none).
  std::string StoredName(const TestTenant& t, const std::string& name) {
    for (const std::string& stored : {"matih-identity/" + name, name})
      if (harness_.secrets().Get(t.view.id, stored).ok()) return stored;
    return "matih-identity/" + name;
  }
  std::string Secret(const TestTenant& t, const std::string& name) {
    auto value = harness_.secrets().Get(t.view.id, StoredName(t, name));
    return value.ok() ? value.value() : "";
  }
  // Whether this runner's host can delete secrets (step ABI 1.2); older ones leave dead ones.
  static bool HostDeletesSecrets() {
    const matih_host_api* host = runner::HostServicesTable();
    return MATIH_ABI_HAS_FIELD(host, matih_host_api, callback_delete_secret) && host->callback_delete_secret;
  }
  nlohmann::json Registration(const TestTenant& t, const std::string& prefix) {
    auto text = Secret(t, prefix + "/registration");
    return text.empty() ? nlohmann::json() : nlohmann::json::parse(text);
  }
  // The client's record at the provider, read as an operator would with the stored token.
  std::optional<nlohmann::json> Record(const TestTenant& t, const std::string& prefix) {
    auto reg = Registration(t, prefix);
    if (reg.is_null()) return std::nullopt;
    return Idp().Read(reg["registration_client_uri"], reg["registration_access_token"]);
  }
  // A hand change through RFC 7592 by an operator holding the vault's token: the token rotates,
  // and the operator keeps the new one in the vault.
  void HandUpdate(const TestTenant& t, const std::string& prefix, const nlohmann::json& changes) {
    auto reg = Registration(t, prefix);
    auto record = *Record(t, prefix);
    for (const char* f : {"registration_access_token", "registration_client_uri", "client_secret",
                          "client_secret_expires_at", "client_id_issued_at"})
      record.erase(f);
    for (const auto& [k, v] : changes.items()) record[k] = v;
    auto answer = Idp().Update(reg["registration_client_uri"], reg["registration_access_token"], record);
    reg["registration_access_token"] = answer["registration_access_token"];
    ASSERT_TRUE(harness_.secrets().Put(t.view.id, StoredName(t, prefix + "/registration"), reg.dump()).ok());
  }
  void ApplyOk(const std::string& step, TestTenant& t) {
    auto answer = harness_.Apply(step, t);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << step << ": " << answer.message;
  }
  matih_status ObserveStatus(const std::string& step, TestTenant& t) {
    return harness_.Observe(step, t).status;
  }
  std::string Git(const std::string& args) {
    std::string out;
    RunCommand("git -C '" + harness_.settings()["gitops.repository"] + "' " + args + " 2>&1", &out);
    return out;
  }

  StepHarness harness_;
  PooledHttp http_;
  std::string issuer_;
  TestTenant a_, b_;
};

const char* kManaged = "create-managed-identity";
const char* kFederation = "federate-workload-identity";
const char* kAccess = "grant-identity-access";
const char* kSso = "register-identity-provider";
const char* kPrincipal = "validate-service-principal";

// ---- step 18 ------------------------------------------------------------------------------

TEST_F(Identity, ManagedIdentityIsAConfidentialClientThatGetsARealToken) {
  EXPECT_EQ(MATIH_STATUS_ABSENT, ObserveStatus(kManaged, a_));
  auto answer = harness_.Apply(kManaged, a_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  const std::string client_id = answer.outputs["client_id"];
  const std::string secret = Secret(a_, "managed-identity/client_secret");
  ASSERT_FALSE(client_id.empty());
  ASSERT_FALSE(secret.empty());
  EXPECT_EQ(client_id, Registration(a_, "managed-identity")["client_id"]);
  for (const auto& [key, value] : answer.outputs) EXPECT_EQ(std::string::npos, value.find(secret)) << key;

  auto record = Record(a_, "managed-identity");
  ASSERT_TRUE(record);
  EXPECT_EQ(nlohmann::json({"client_credentials"}), (*record)["grant_types"]);
  EXPECT_EQ("client_secret_basic", (*record)["token_endpoint_auth_method"]);
  EXPECT_EQ(a_.view.slug, (*record)["matih_tenant"]);
  EXPECT_TRUE(Idp().ClientCredentials(client_id, secret).granted);
  EXPECT_EQ("invalid_client", Idp().ClientCredentials(client_id, secret + "x").error);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kManaged, a_));
}

TEST_F(Identity, ManagedIdentitySecondApplyLeavesTheRecordAndTokenAlone) {
  ApplyOk(kManaged, a_);
  const auto registration = Registration(a_, "managed-identity");
  const auto record = Record(a_, "managed-identity");
  ApplyOk(kManaged, a_);
  // An update would have rotated the registration access token.
  EXPECT_EQ(registration, Registration(a_, "managed-identity"));
  EXPECT_EQ(record, Record(a_, "managed-identity"));
}

TEST_F(Identity, ManagedIdentityHandChangeIsDriftedAndRepairedWithTheRotatedToken) {
  ApplyOk(kManaged, a_);
  HandUpdate(a_, "managed-identity",
             {{"client_name", "renamed by hand"}, {"token_endpoint_auth_method", "client_secret_post"}});
  const std::string token_before = Registration(a_, "managed-identity")["registration_access_token"];
  auto observed = harness_.Observe(kManaged, a_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("token_endpoint_auth_method")) << observed.message;
  ApplyOk(kManaged, a_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kManaged, a_));
  EXPECT_EQ("client_secret_basic", (*Record(a_, "managed-identity"))["token_endpoint_auth_method"]);
  EXPECT_NE(token_before, Registration(a_, "managed-identity")["registration_access_token"])
      << "rotated token stored";
}

TEST_F(Identity, ManagedIdentityDeletedAtTheProviderIsAbsentAndRegisteredAgain) {
  ApplyOk(kManaged, a_);
  const auto reg = Registration(a_, "managed-identity");
  ASSERT_TRUE(Idp().Delete(reg["registration_client_uri"], reg["registration_access_token"]));
  EXPECT_EQ(MATIH_STATUS_ABSENT, ObserveStatus(kManaged, a_));
  auto answer = harness_.Apply(kManaged, a_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_NE(reg["client_id"], answer.outputs["client_id"]);
  EXPECT_TRUE(
      Idp()
          .ClientCredentials(answer.outputs["client_id"], Secret(a_, "managed-identity/client_secret"))
          .granted);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kManaged, a_));
}

TEST_F(Identity, ManagedIdentityRemoveDeletesClientAndSecretsAndCanRepeat) {
  ApplyOk(kManaged, a_);
  const auto reg = Registration(a_, "managed-identity");
  const std::string secret = Secret(a_, "managed-identity/client_secret");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kManaged, a_).status);
  EXPECT_FALSE(Idp().Read(reg["registration_client_uri"], reg["registration_access_token"]));
  EXPECT_EQ("invalid_client", Idp().ClientCredentials(reg["client_id"], secret).error);
  if (HostDeletesSecrets()) {
    EXPECT_EQ("", Secret(a_, "managed-identity/client_secret"));
    EXPECT_EQ("", Secret(a_, "managed-identity/registration"));
  }
  EXPECT_EQ(MATIH_STATUS_ABSENT, ObserveStatus(kManaged, a_));
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kManaged, a_).status);
}

TEST_F(Identity, ManagedIdentitiesOfTwoTenantsAreIsolated) {
  ApplyOk(kManaged, a_);
  ApplyOk(kManaged, b_);
  const std::string id_a = Registration(a_, "managed-identity")["client_id"];
  const std::string id_b = Registration(b_, "managed-identity")["client_id"];
  ASSERT_NE(id_a, id_b);
  EXPECT_EQ("invalid_client",
            Idp().ClientCredentials(id_a, Secret(b_, "managed-identity/client_secret")).error);
  EXPECT_EQ("invalid_client",
            Idp().ClientCredentials(id_b, Secret(a_, "managed-identity/client_secret")).error);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kManaged, a_).status);
  EXPECT_TRUE(Idp().ClientCredentials(id_b, Secret(b_, "managed-identity/client_secret")).granted)
      << "B untouched";
}

TEST_F(Identity, UnreachableProviderIsTransientForEveryStep) {
  harness_.settings()["identity.issuer_url"] = "http://127.0.0.1:1";
  for (const char* step : {kManaged, kSso, kPrincipal}) {
    auto answer = harness_.Apply(step, a_);
    EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, answer.status) << step << ": " << answer.message;
    EXPECT_NE(std::string::npos, answer.message.find("identity provider http://127.0.0.1:1 is unreachable"))
        << answer.message;
    EXPECT_NE(std::string::npos, answer.message.find(std::string("step ") + step)) << answer.message;
  }
  harness_.settings()["identity.issuer_url"] = issuer_;
  ApplyOk(kManaged, a_);
  ApplyOk(kSso, a_);
  harness_.settings()["identity.issuer_url"] = "http://127.0.0.1:1";
  for (const char* step : {kManaged, kAccess, kSso, kPrincipal}) {
    EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, ObserveStatus(step, a_)) << step;
    EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Apply(step, a_).status) << step;
  }
  for (const char* step : {kManaged, kAccess, kSso})
    EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Remove(step, a_).status) << step;
  harness_.settings()["identity.issuer_url"] = issuer_;
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kManaged, a_)) << "nothing was lost";
}

TEST_F(Identity, RefusedInitialAccessTokenIsPermanentAndStoresNothing) {
  harness_.settings()["identity.initial_access_token"] = "not-the-token";
  for (const char* step : {kManaged, kSso}) {
    auto answer = harness_.Apply(step, a_);
    EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status) << step << ": " << answer.message;
    EXPECT_NE(std::string::npos, answer.message.find("identity.initial_access_token")) << answer.message;
    EXPECT_EQ(std::string::npos, answer.message.find("not-the-token"));
  }
  EXPECT_EQ("", Secret(a_, "managed-identity/registration"));
  EXPECT_EQ("", Secret(a_, "sso-client/registration"));
}

TEST_F(Identity, BadParamsAreRefusedAtCatalogLoad) {
  const std::map<std::string, std::vector<std::string>> bad = {
      {kManaged, {"[]", R"({"token_endpoint_auth_method":"none"})", R"({"colour":"red"})"}},
      {kFederation, {R"({"service_account":"Not_A_Name"})", R"({"audiences":[]})", R"({"x":1})"}},
      {kAccess, {R"({"storage_role":"not-a-guid"})", R"({"vault":"UPPER"})"}},
      {kSso, {R"({"hosts":"api"})", R"({"hosts":["bad host"]})", R"({"callback_path":"no-slash"})"}},
      {kPrincipal, {R"({"anything":1})"}},
  };
  for (const auto& [step, list] : bad) {
    EXPECT_TRUE(harness_.KindOf(step).ValidateParams(harness_.Step(step).params_json).ok()) << step;
    for (const auto& params : list)
      EXPECT_FALSE(harness_.KindOf(step).ValidateParams(params).ok()) << step << " " << params;
  }
}

TEST_F(Identity, ConnectionsToTheProviderAreReused) {
  PooledHttp pool;
  IdentityProvider idp(pool, ProviderSettings{issuer_, {}, std::chrono::seconds(5)}, "test");
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(idp.ClientCredentials("nobody", "nothing").granted);
  EXPECT_EQ(1, pool.connections_opened());
}

// A port nothing listens on right now (the kernel's pick for an ephemeral bind).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// Our launcher (scripts/oidc/server.mjs) on its own port and data folder, started and stopped by
// the test, to restart it under a registration.
class OwnProvider {
 public:
  OwnProvider(const std::filesystem::path& dir, int port) : dir_(dir), port_(port) {
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "iat") << "test-initial-access-token\n";
  }
  ~OwnProvider() { Stop(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void Start() {
    const std::string root = StackEnv::Require("MATIH_STACK_ROOT");
    std::string out;
    ASSERT_EQ(0, RunCommand("MATIH_NODE_MODULES='" + root + "/var/node/node_modules' node '" + root +
                                "/scripts/oidc/server.mjs' --port " + std::to_string(port_) + " --data '" +
                                (dir_ / "data").string() + "' --initial-access-token-file '" +
                                (dir_ / "iat").string() + "' >>'" + (dir_ / "log").string() +
                                "' 2>&1 </dev/null & echo $!",
                            &out));
    pid_ = std::stoi(out);
    plugins::HttpClient http({}, std::chrono::milliseconds(500));
    for (int i = 0; i < 100; ++i) {
      try {
        if (http.Send({"GET", url() + "/.well-known/openid-configuration", {}, ""}).status == 200) return;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "the launcher did not start; see " << (dir_ / "log");
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 50 && Alive(pid_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (Alive(pid_)) kill(pid_, SIGKILL);
    pid_ = 0;
  }
  // Running (not a zombie: the launcher's parent shell is gone, so nobody here reaps it).
  static bool Alive(int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(") ");
    return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
  }

 private:
  std::filesystem::path dir_;
  int port_;
  int pid_ = 0;
};

TEST_F(Identity, RegistrationsSurviveARestartOfTheProvider) {
  OwnProvider idp(harness_.TempPath("oidc"), FreePort());
  ASSERT_NO_FATAL_FAILURE(idp.Start());
  harness_.settings()["identity.issuer_url"] = idp.url();
  harness_.settings()["identity.initial_access_token"] = "test-initial-access-token";
  ApplyOk(kManaged, a_);
  ApplyOk(kAccess, a_);
  idp.Stop();
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, ObserveStatus(kManaged, a_)) << "stopped";
  ASSERT_NO_FATAL_FAILURE(idp.Start());
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kManaged, a_));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kAccess, a_));
  IdentityProvider client(http_, ProviderSettings{idp.url(), {}, std::chrono::seconds(5)}, "test");
  const std::string id = Registration(a_, "managed-identity")["client_id"];
  EXPECT_TRUE(client
                  .ClientCredentials(id, Secret(a_, "managed-identity/client_secret"),
                                     "urn:matih:tenant:" + a_.view.slug + ":vault")
                  .granted);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(harness_.TempPath("oidc") / "data"))
    EXPECT_NE(".tmp", entry.path().extension()) << "a temporary file was left: " << entry.path();
}

// ---- step 19 ------------------------------------------------------------------------------

TEST_F(Identity, FederationPatchesTheServiceAccountAndDeliversTheCredential) {
  ApplyOk("create-service-account", a_);
  ApplyOk(kManaged, a_);
  EXPECT_EQ(MATIH_STATUS_ABSENT, ObserveStatus(kFederation, a_));
  ApplyOk(kFederation, a_);
  const std::string client_id = Registration(a_, "managed-identity")["client_id"];
  const std::string folder = "tenants/" + a_.view.slug + "/";
  const std::string patch = Git("show main:" + folder + kFederation + ".patch.yaml");
  EXPECT_NE(std::string::npos, patch.find("azure.workload.identity/client-id: \"" + client_id + "\""))
      << patch;
  EXPECT_NE(std::string::npos, patch.find("azure.workload.identity/use: \"true\"")) << patch;
  const std::string credential = Git("show main:" + folder + kFederation + "-credential.yaml");
  EXPECT_NE(std::string::npos, credential.find("kind: \"FederatedIdentityCredential\"")) << credential;
  EXPECT_NE(std::string::npos,
            credential.find("system:serviceaccount:tenant-" + a_.view.slug + ":tenant-workloads"))
      << credential;
  // kustomize folds the patch into step 11's ServiceAccount.
  std::string built;
  Git("checkout -q main");
  ASSERT_EQ(0,
            RunCommand("kubectl kustomize '" + harness_.settings()["gitops.repository"] + "/" + folder + "'",
                       &built))
      << built;
  EXPECT_NE(std::string::npos, built.find("azure.workload.identity/client-id: " + client_id)) << built;
  EXPECT_NE(std::string::npos, built.find("automountServiceAccountToken: false")) << built;

  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kFederation, a_));
  const std::string head = Git("rev-parse main");
  ApplyOk(kFederation, a_);
  EXPECT_EQ(head, Git("rev-parse main")) << "a second apply must not commit";
}

TEST_F(Identity, FederationHandEditIsDriftedAndRepairedAndRemoveIsRepeatable) {
  ApplyOk("create-service-account", a_);
  ApplyOk(kManaged, a_);
  ApplyOk(kFederation, a_);
  const std::string repo = harness_.settings()["gitops.repository"];
  const std::string file = "tenants/" + a_.view.slug + "/" + kFederation + "-credential.yaml";
  Git("checkout -q main");
  {
    std::ofstream out(repo + "/" + file, std::ios::app);
    out << "# edited by hand\n";
  }
  Git("commit -qam 'hand edit'");
  EXPECT_EQ(MATIH_STATUS_DRIFTED, ObserveStatus(kFederation, a_));
  ApplyOk(kFederation, a_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kFederation, a_));
  // A new identity (step 18 re-registered) is drift too.
  const auto reg = Registration(a_, "managed-identity");
  ASSERT_TRUE(Idp().Delete(reg["registration_client_uri"], reg["registration_access_token"]));
  ApplyOk(kManaged, a_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, ObserveStatus(kFederation, a_));
  ApplyOk(kFederation, a_);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kFederation, a_).status);
  EXPECT_NE(std::string::npos, Git("show main:" + file).find("fatal")) << "file removed";
  EXPECT_EQ(MATIH_STATUS_ABSENT, ObserveStatus(kFederation, a_));
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kFederation, a_).status);
}

// The same two steps delivered with server-side apply to FakeKubeApiServer (a fake: no
// kube-apiserver can run here): step 19 owns only its fields of step 11's ServiceAccount.
TEST_F(Identity, FederationAndAccessOverTheKubernetesApi) {
  FakeKubeApiServer server;
  auto& s = harness_.settings();
  s["kubernetes.delivery"] = "api";
  s["kubernetes.api_url"] = server.url();
  s["kubernetes.allow_http"] = "true";
  s["kubernetes.timeout_ms"] = "5000";
  ApplyOk("create-namespace", a_);
  ApplyOk("create-service-account", a_);
  ApplyOk(kManaged, a_);
  const std::string client_id = Registration(a_, "managed-identity")["client_id"];
  const std::string ns = "tenant-" + a_.view.slug;
  const std::string sa = "/api/v1/namespaces/" + ns + "/serviceaccounts/tenant-workloads";
  const std::string fic = "/apis/managedidentity.azure.com/v1api20230131/namespaces/" + ns +
                          "/federatedidentitycredentials/tenant-workloads-federation";
  EXPECT_EQ(MATIH_STATUS_DRIFTED, ObserveStatus(kFederation, a_)) << "the ServiceAccount lacks the fields";
  ApplyOk(kFederation, a_);
  auto live = server.Get(sa);
  ASSERT_TRUE(live);
  EXPECT_EQ(client_id, (*live)["metadata"]["annotations"]["azure.workload.identity/client-id"]);
  EXPECT_EQ("true", (*live)["metadata"]["labels"]["azure.workload.identity/use"]);
  EXPECT_EQ(false, (*live)["automountServiceAccountToken"]) << "step 11's fields kept";
  auto credential = server.Get(fic);
  ASSERT_TRUE(credential);
  EXPECT_EQ("system:serviceaccount:" + ns + ":tenant-workloads", (*credential)["spec"]["subject"]);
  bool patched_with_own_manager = false;
  for (const auto& r : server.requests())
    if (r.path == sa && r.method == "PATCH" &&
        r.field_manager == "matih-provisioner-federate-workload-identity")
      patched_with_own_manager = true;
  EXPECT_TRUE(patched_with_own_manager);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kFederation, a_));

  server.Edit(sa, "kubectl-edit",
              {{"metadata", {{"annotations", {{"azure.workload.identity/client-id", "someone-else"}}}}}});
  EXPECT_EQ(MATIH_STATUS_DRIFTED, ObserveStatus(kFederation, a_));
  s["kubernetes.force_conflicts"] = "true";
  ApplyOk(kFederation, a_);
  EXPECT_EQ(client_id, (*server.Get(sa))["metadata"]["annotations"]["azure.workload.identity/client-id"]);

  ApplyOk(kAccess, a_);
  auto containers = server.Get("/apis/authorization.azure.com/v1api20220401/namespaces/" + ns +
                               "/roleassignments/tenant-workloads-containers");
  ASSERT_TRUE(containers);
  EXPECT_EQ("StorageAccount", (*containers)["spec"]["owner"]["kind"]);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kAccess, a_));

  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kFederation, a_).status);
  live = server.Get(sa);
  ASSERT_TRUE(live) << "the ServiceAccount is step 11's";
  EXPECT_FALSE((*live)["metadata"].contains("annotations") &&
               (*live)["metadata"]["annotations"].contains("azure.workload.identity/client-id"));
  EXPECT_FALSE(server.Get(fic));
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kAccess, a_).status);
  EXPECT_FALSE(server.Get("/apis/authorization.azure.com/v1api20220401/namespaces/" + ns +
                          "/roleassignments/tenant-workloads-vault"));
}

// ---- step 20 ------------------------------------------------------------------------------

TEST_F(Identity, AccessGrantsOnlyTheTenantsOwnContainersAndVault) {
  ApplyOk(kManaged, a_);
  ApplyOk(kManaged, b_);
  EXPECT_EQ(MATIH_STATUS_ABSENT, ObserveStatus(kAccess, a_));
  ApplyOk(kAccess, a_);
  ApplyOk(kAccess, b_);
  const std::string id = Registration(a_, "managed-identity")["client_id"];
  const std::string secret = Secret(a_, "managed-identity/client_secret");
  const std::string own = "urn:matih:tenant:" + a_.view.slug + ":",
                    other = "urn:matih:tenant:" + b_.view.slug + ":";
  EXPECT_TRUE(Idp().ClientCredentials(id, secret, own + "containers").granted);
  EXPECT_TRUE(Idp().ClientCredentials(id, secret, own + "vault").granted);
  EXPECT_EQ("invalid_target", Idp().ClientCredentials(id, secret, other + "vault").error);
  EXPECT_EQ("invalid_target", Idp().ClientCredentials(id, secret, other + "containers").error);
  EXPECT_EQ("invalid_target", Idp().ClientCredentials(id, secret, own + "database").error);
  const std::string objects = Git("show main:tenants/" + a_.view.slug + "/" + kAccess + ".yaml");
  EXPECT_NE(std::string::npos, objects.find("kind: \"RoleAssignment\"")) << objects;
  EXPECT_NE(std::string::npos, objects.find("ba92f5b4-2d11-453d-a403-e96b0029c9fe")) << objects;

  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kAccess, a_));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kManaged, a_)) << "step 18 ignores step 20's field";
  const auto registration = Registration(a_, "managed-identity");
  const std::string head = Git("rev-parse main");
  ApplyOk(kAccess, a_);
  ApplyOk(kManaged, a_);
  EXPECT_EQ(registration, Registration(a_, "managed-identity")) << "no update, so no rotation";
  EXPECT_EQ(head, Git("rev-parse main"));
  EXPECT_TRUE(Idp().ClientCredentials(id, secret, own + "vault").granted)
      << "step 18's apply kept the grants";
}

TEST_F(Identity, AccessWidenedByHandIsDriftedAndNarrowedAgainThenRemoved) {
  ApplyOk(kManaged, a_);
  ApplyOk(kAccess, a_);
  const std::string id = Registration(a_, "managed-identity")["client_id"];
  const std::string secret = Secret(a_, "managed-identity/client_secret");
  const std::string foreign = "urn:matih:tenant:" + b_.view.slug + ":vault";
  HandUpdate(a_, "managed-identity",
             {{"matih_access", {"urn:matih:tenant:" + a_.view.slug + ":containers", foreign}}});
  ASSERT_TRUE(Idp().ClientCredentials(id, secret, foreign).granted) << "the hand change took effect";
  auto observed = harness_.Observe(kAccess, a_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("matih_access")) << observed.message;
  ApplyOk(kAccess, a_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kAccess, a_));
  EXPECT_EQ("invalid_target", Idp().ClientCredentials(id, secret, foreign).error);

  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kAccess, a_).status);
  EXPECT_FALSE(Record(a_, "managed-identity")->contains("matih_access"));
  EXPECT_EQ("invalid_target",
            Idp().ClientCredentials(id, secret, "urn:matih:tenant:" + a_.view.slug + ":vault").error);
  EXPECT_TRUE(Idp().ClientCredentials(id, secret).granted) << "the identity itself stays (step 18's)";
  EXPECT_EQ(MATIH_STATUS_ABSENT, ObserveStatus(kAccess, a_));
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kAccess, a_).status);
}

TEST_F(Identity, AccessWithoutTheManagedIdentityIsAPermanentError) {
  auto answer = harness_.Apply(kAccess, a_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("step 18")) << answer.message;
}

// ---- lost answers (issue 16: chaos faults) -------------------------------------------------

// Clients at the stack's provider registered under `key` (our launcher keeps one JSON file per
// client under var/oidc/data/Client, with its metadata).
int ClientsWithKey(const std::string& key) {
  const std::filesystem::path dir = StackEnv::Require("MATIH_STACK_ROOT") + "/var/oidc/data/Client";
  int n = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir))
    if (f.path().filename().string().rfind("record-", 0) == 0 &&
        ReadFile(f.path().string()).find("\"" + key + "\"") != std::string::npos)
      ++n;
  return n;
}

// Step 20's grant is an RFC 7592 update, which rotates the registration access token. A runner
// killed after the update and before storing the new token (or the update's answer lost) left
// the old, dead token stored: step 18 was DONE, the identity alive at the provider, yet step 20
// found it "absent", failed as failed_precondition and the tenant was ROLLED_BACK (chaos
// sigkill_steps, steps 18-20). Now the client is adopted again under its unique name.
TEST_F(Identity, AGrantWhoseAnswerWasLostIsAdoptedWithTheSameIdentity) {
  ApplyOk(kManaged, a_);
  const auto before = Registration(a_, "managed-identity");
  const std::string id = before["client_id"];
  // Step 20's update, made as it makes it, its answer (the rotated token) thrown away.
  auto body = *Record(a_, "managed-identity");
  for (const char* f : {"registration_access_token", "registration_client_uri", "client_secret",
                        "client_secret_expires_at", "client_id_issued_at"})
    body.erase(f);
  body["matih_access"] = {"urn:matih:tenant:" + a_.view.slug + ":containers",
                          "urn:matih:tenant:" + a_.view.slug + ":vault"};
  Idp().Update(before["registration_client_uri"], before["registration_access_token"], body);
  ASSERT_FALSE(Record(a_, "managed-identity")) << "the stored token is dead now";

  auto observed = harness_.Observe(kManaged, a_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status) << "alive, not absent: " << observed.message;
  auto answer = harness_.Apply(kAccess, a_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_EQ(id, Registration(a_, "managed-identity")["client_id"]) << "the same identity";
  EXPECT_EQ(1, ClientsWithKey("matih/managed-identity/" + a_.view.slug));
  ASSERT_TRUE(Record(a_, "managed-identity")) << "a working token is stored";
  EXPECT_FALSE(Idp().Read(before["registration_client_uri"], before["registration_access_token"]));
  const std::string secret = Secret(a_, "managed-identity/client_secret");
  EXPECT_TRUE(Idp().ClientCredentials(id, secret, "urn:matih:tenant:" + a_.view.slug + ":vault").granted);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kManaged, a_));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kAccess, a_));
  for (const auto& [key, value] : answer.outputs) EXPECT_EQ(std::string::npos, value.find(secret)) << key;
}

// The same loss seen by step 18 itself (its own update's answer lost), and by remove: adopted,
// then converged or deleted; nothing is left at the provider.
TEST_F(Identity, ManagedIdentityWithALostTokenIsAdoptedByApplyAndDeletedByRemove) {
  ApplyOk(kManaged, a_);
  const std::string id = Registration(a_, "managed-identity")["client_id"];
  const std::string key = "matih/managed-identity/" + a_.view.slug;
  auto lose_token = [&] {
    const auto reg = Registration(a_, "managed-identity");
    auto body = *Record(a_, "managed-identity");
    for (const char* f : {"registration_access_token", "registration_client_uri", "client_secret",
                          "client_secret_expires_at", "client_id_issued_at"})
      body.erase(f);
    body["client_name"] = "renamed, answer lost";
    Idp().Update(reg["registration_client_uri"], reg["registration_access_token"], body);
  };
  lose_token();
  ApplyOk(kManaged, a_);
  EXPECT_EQ(id, Registration(a_, "managed-identity")["client_id"]);
  EXPECT_EQ("matih tenant " + a_.view.slug + " workloads", (*Record(a_, "managed-identity"))["client_name"]);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kManaged, a_));
  EXPECT_EQ(1, ClientsWithKey(key));
  lose_token();
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kManaged, a_).status);
  EXPECT_EQ(0, ClientsWithKey(key)) << "the client behind the lost token was deleted too";
  EXPECT_EQ(MATIH_STATUS_ABSENT, ObserveStatus(kManaged, a_));
}

// A registration whose answer was lost (here: made through the registration endpoint under the
// step's unique name, its answer thrown away) is adopted by the step, not registered twice.
TEST_F(Identity, ARegistrationWhoseAnswerWasLostIsAdoptedNotMadeTwice) {
  const std::string key = "matih/managed-identity/" + a_.view.slug;
  const auto lost = Idp().Register({{"client_name", "matih tenant " + a_.view.slug + " workloads"},
                                    {"grant_types", {"client_credentials"}},
                                    {"response_types", nlohmann::json::array()},
                                    {"redirect_uris", nlohmann::json::array()},
                                    {"matih_registration_key", key}},
                                   harness_.settings()["identity.initial_access_token"]);
  ASSERT_EQ(1, ClientsWithKey(key));
  auto answer = harness_.Apply(kManaged, a_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_EQ(lost["client_id"], answer.outputs["client_id"]);
  EXPECT_EQ(1, ClientsWithKey(key));
  EXPECT_FALSE(Idp().Read(lost["registration_client_uri"], lost["registration_access_token"]))
      << "the lost answer's token is revoked";
  // Tenant B's identity is another client.
  ApplyOk(kManaged, b_);
  EXPECT_NE(answer.outputs["client_id"], Registration(b_, "managed-identity")["client_id"]);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kManaged, a_).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kManaged, b_).status);
  EXPECT_EQ(0, ClientsWithKey(key));
}

// An identity deleted at the provider is not re-made by step 20 (step 18 owns it): still a
// permanent error naming step 18.
TEST_F(Identity, AccessDoesNotRemakeADeletedManagedIdentity) {
  ApplyOk(kManaged, a_);
  const auto reg = Registration(a_, "managed-identity");
  ASSERT_TRUE(Idp().Delete(reg["registration_client_uri"], reg["registration_access_token"]));
  auto answer = harness_.Apply(kAccess, a_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("step 18")) << answer.message;
  EXPECT_EQ(0, ClientsWithKey("matih/managed-identity/" + a_.view.slug));
}

// ---- step 46 ------------------------------------------------------------------------------

TEST_F(Identity, SsoClientIsRegisteredWithTheTenantsRedirectUris) {
  EXPECT_EQ(MATIH_STATUS_ABSENT, ObserveStatus(kSso, a_));
  ApplyOk(kSso, a_);
  auto record = Record(a_, "sso-client");
  ASSERT_TRUE(record);
  const auto uris = (*record)["redirect_uris"];
  const std::string suffix = "." + a_.view.slug + ".platform.example.test/oauth2/callback";
  EXPECT_NE(uris.end(), std::find(uris.begin(), uris.end(), "https://api" + suffix)) << uris;
  EXPECT_NE(uris.end(), std::find(uris.begin(), uris.end(), "https://bi" + suffix)) << uris;
  for (const auto& uri : uris) EXPECT_NE(std::string::npos, uri.get<std::string>().find(suffix)) << uri;
  EXPECT_EQ(nlohmann::json({"authorization_code", "refresh_token"}), (*record)["grant_types"]);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kSso, a_));
  const auto registration = Registration(a_, "sso-client");
  ApplyOk(kSso, a_);
  EXPECT_EQ(registration, Registration(a_, "sso-client")) << "second apply: no update, no rotation";
  EXPECT_EQ(record, Record(a_, "sso-client"));
}

TEST_F(Identity, SsoClientRedirectUrisChangedByHandAreRepaired) {
  ApplyOk(kSso, a_);
  const auto desired = (*Record(a_, "sso-client"))["redirect_uris"];
  HandUpdate(a_, "sso-client", {{"redirect_uris", {"https://evil.example.test/oauth2/callback"}}});
  const std::string token = Registration(a_, "sso-client")["registration_access_token"];
  auto observed = harness_.Observe(kSso, a_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("redirect_uris")) << observed.message;
  ApplyOk(kSso, a_);
  EXPECT_EQ(desired, (*Record(a_, "sso-client"))["redirect_uris"]);
  EXPECT_NE(token, Registration(a_, "sso-client")["registration_access_token"]) << "rotated token stored";
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kSso, a_));
}

TEST_F(Identity, SsoClientDeletedAtTheProviderIsAbsentReRegisteredAndRemoved) {
  ApplyOk(kSso, a_);
  auto reg = Registration(a_, "sso-client");
  ASSERT_TRUE(Idp().Delete(reg["registration_client_uri"], reg["registration_access_token"]));
  EXPECT_EQ(MATIH_STATUS_ABSENT, ObserveStatus(kSso, a_));
  ApplyOk(kSso, a_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kSso, a_));
  reg = Registration(a_, "sso-client");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kSso, a_).status);
  EXPECT_FALSE(Idp().Read(reg["registration_client_uri"], reg["registration_access_token"]));
  if (HostDeletesSecrets()) {
    EXPECT_EQ("", Secret(a_, "sso-client/client_secret"));
  }
  EXPECT_EQ(MATIH_STATUS_ABSENT, ObserveStatus(kSso, a_));
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kSso, a_).status);
}

TEST_F(Identity, SsoClientsOfTwoTenantsAreIsolated) {
  ApplyOk(kSso, a_);
  ApplyOk(kSso, b_);
  const std::string id_a = Registration(a_, "sso-client")["client_id"];
  // The right secret authenticates (then the grant is refused: the client may not use it)...
  const auto own = Idp().ClientCredentials(id_a, Secret(a_, "sso-client/client_secret"));
  EXPECT_FALSE(own.granted);
  EXPECT_NE("invalid_client", own.error) << own.error_description;
  // ...another tenant's secret does not even authenticate.
  EXPECT_EQ("invalid_client", Idp().ClientCredentials(id_a, Secret(b_, "sso-client/client_secret")).error);
  EXPECT_NE(Record(a_, "sso-client")->at("redirect_uris"), Record(b_, "sso-client")->at("redirect_uris"));
}

// ---- step 49 ------------------------------------------------------------------------------

TEST_F(Identity, ServicePrincipalIsValidatedWithARealClientCredentialsGrant) {
  auto dedicated = StepHarness::MakeTenant("professional", "idsp");
  EXPECT_EQ(MATIH_STATUS_ABSENT, ObserveStatus(kPrincipal, dedicated));
  auto answer = harness_.Apply(kPrincipal, dedicated);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_EQ(harness_.settings()["identity.service_principal_id"], answer.outputs["service_principal_id"]);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, ObserveStatus(kPrincipal, dedicated));
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kPrincipal, dedicated).status);

  harness_.settings()["identity.service_principal_secret"] = "wrong-secret";
  answer = harness_.Apply(kPrincipal, dedicated);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("invalid_client")) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("identity.service_principal_secret")) << answer.message;
  EXPECT_EQ(std::string::npos, answer.message.find("wrong-secret"));
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, ObserveStatus(kPrincipal, dedicated));
}

}  // namespace
}  // namespace matih::testing
