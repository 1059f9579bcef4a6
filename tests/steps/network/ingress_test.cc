// Steps 40 (deploy-ingress-controller, network.ingress_controller) and 42 (create-tenant-ingress,
// network.tenant_ingress) on the stack's real nginx, PowerDNS and CA: the Flux HelmRelease and the
// cert-manager Certificate + Ingress land in the GitOps repository; locally each tenant gets its
// nginx server (HTTP /healthz naming it) and a certificate from the CA, checked with curl over
// HTTPS with the name resolved by dig at the PowerDNS server and verified against the CA. Second
// applies write and reload nothing, hand changes (server removed, certificate near expiry, TLS
// listener removed) are found and repaired, remove leaves nothing, tenants are isolated.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>

#include "steps/network/network_test_support.h"
#include "support/stack_env.h"

namespace matih::testing {
namespace {

const std::string kController = "deploy-ingress-controller";
const std::string kZone = "create-dns-zone";
const std::string kIngress = "create-tenant-ingress";

class Ingress : public ::testing::Test {
 protected:
  void SetUp() override {
    UseStackNetworkSettings(harness_);
    tenant_ = StepHarness::MakeTenant("free", "web");
  }
  void TearDown() override {
    UseStackNetworkSettings(harness_);  // a test may have changed them
    for (auto* t : {&tenant_, &other_})
      for (const auto& step : {kIngress, kZone, kController})
        EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(step, *t).status) << step;
  }
  std::string Zone(const TestTenant& t) {
    return t.view.slug + "." + ParentZone().substr(0, ParentZone().size() - 1);
  }
  void ApplyOk(const std::string& step, TestTenant& t) {
    auto answer = harness_.Apply(step, t);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << step << ": " << answer.message;
  }
  void ApplyAll(TestTenant& t) {
    for (const auto& step : {kController, kZone, kIngress}) ApplyOk(step, t);
  }
  std::string ServerFile(const TestTenant& t) { return NginxPrefix() + "/tenants/" + t.view.slug + ".conf"; }
  std::string TlsFile(const TestTenant& t) {
    return NginxPrefix() + "/tenants/" + t.view.slug + ".d/tls.conf";
  }
  std::string CertFile(const TestTenant& t) {
    return harness_.TempPath("certs").string() + "/" + t.view.slug + "/tls.crt";
  }
  std::string KeyFile(const TestTenant& t) {
    return harness_.TempPath("certs").string() + "/" + t.view.slug + "/tls.key";
  }
  // The address of `host` as the PowerDNS server answers it.
  std::string Resolve(const std::string& host) {
    auto a = Dig(host + ".", "A");
    EXPECT_EQ(1u, a.size()) << host;
    return a.empty() ? "" : a.front();
  }
  std::string GitFile(const TestTenant& t, const std::string& step) {
    std::string out;
    RunCommand("git -C '" + harness_.settings()["gitops.repository"] + "' show main:tenants/" + t.view.slug +
                   "/" + step + ".yaml",
               &out);
    return out;
  }
  std::string FileSerial(const TestTenant& t) { return X509Field(CertFile(t), "-serial").substr(7); }

  StepHarness harness_;
  TestTenant tenant_;
  TestTenant other_ = StepHarness::MakeTenant("free", "web");
};

TEST_F(Ingress, ControllerDeliversScopedHelmReleaseAndServesTheTenantsHealthz) {
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kController, tenant_).status);
  ApplyOk(kController, tenant_);
  const auto docs = YAML::LoadAll(GitFile(tenant_, kController));
  ASSERT_EQ(2u, docs.size());
  EXPECT_EQ("source.toolkit.fluxcd.io/v1", docs[0]["apiVersion"].as<std::string>());
  EXPECT_EQ("HelmRepository", docs[0]["kind"].as<std::string>());
  EXPECT_EQ("helm.toolkit.fluxcd.io/v2", docs[1]["apiVersion"].as<std::string>());
  const auto controller = docs[1]["spec"]["values"]["controller"];
  EXPECT_EQ("nginx-" + tenant_.view.slug, controller["ingressClassResource"]["name"].as<std::string>());
  EXPECT_TRUE(controller["scope"]["enabled"].as<bool>());
  EXPECT_EQ("tenant-" + tenant_.view.slug, controller["scope"]["namespace"].as<std::string>());
  EXPECT_EQ("tenant-" + tenant_.view.slug, docs[1]["metadata"]["namespace"].as<std::string>());

  auto answer = Curl("http", "api." + Zone(tenant_), "/healthz", "127.0.0.1");
  EXPECT_EQ("200", answer.status) << answer.body;
  EXPECT_NE(std::string::npos, answer.body.find("\"tenant\":\"" + tenant_.view.slug + "\"")) << answer.body;
  EXPECT_EQ("200", Curl("http", Zone(tenant_), "/healthz", "127.0.0.1").status);
  EXPECT_EQ("404", Curl("http", "api.unknown-tenant.tenants.matih.test", "/healthz", "127.0.0.1").status);
  auto observed = harness_.Observe(kController, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
  EXPECT_EQ("nginx-" + tenant_.view.slug, tenant_.outputs[kController]["ingress_class"]);
}

TEST_F(Ingress, ControllerSecondApplyWritesAndReloadsNothing) {
  ApplyOk(kController, tenant_);
  const auto mtime = std::filesystem::last_write_time(ServerFile(tenant_));
  const std::string workers = NginxWorkers();
  ASSERT_FALSE(workers.empty());
  ApplyOk(kController, tenant_);
  EXPECT_EQ(mtime, std::filesystem::last_write_time(ServerFile(tenant_)));
  EXPECT_EQ(workers, NginxWorkers()) << "nginx was reloaded";
}

TEST_F(Ingress, ControllerServerRemovedByHandIsFoundAndRepaired) {
  ApplyOk(kController, tenant_);
  std::filesystem::remove(ServerFile(tenant_));
  ReloadNginx();
  ASSERT_EQ("404", Curl("http", "api." + Zone(tenant_), "/healthz", "127.0.0.1").status);
  auto observed = harness_.Observe(kController, tenant_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("nginx")) << observed.message;
  ApplyOk(kController, tenant_);
  EXPECT_EQ("200", Curl("http", "api." + Zone(tenant_), "/healthz", "127.0.0.1").status);
}

TEST_F(Ingress, ControllerServerEditedByHandIsFoundAndRepaired) {
  ApplyOk(kController, tenant_);
  { std::ofstream(ServerFile(tenant_), std::ios::app) << "# hand edit\n"; }
  auto observed = harness_.Observe(kController, tenant_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find(ServerFile(tenant_))) << observed.message;
  ApplyOk(kController, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kController, tenant_).status);
}

TEST_F(Ingress, ControllerRemoveLeavesNothingAndCanBeRepeated) {
  ApplyOk(kController, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kController, tenant_).status);
  EXPECT_FALSE(std::filesystem::exists(ServerFile(tenant_)));
  EXPECT_EQ("404", Curl("http", "api." + Zone(tenant_), "/healthz", "127.0.0.1").status);
  EXPECT_EQ("", GitFile(tenant_, kController).find("HelmRelease") == std::string::npos ? "" : "still in git");
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kController, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kController, tenant_).status);
}

TEST_F(Ingress, ControllerWithNginxDownIsTransient) {
  // A prefix with a valid nginx.conf but no running nginx: the reload cannot reach a master.
  const auto prefix = harness_.TempPath("nginx-down");
  std::filesystem::create_directories(prefix / "tenants");
  std::filesystem::create_directories(prefix / "logs");
  std::ofstream(prefix / "nginx.conf")
      << "pid " << (prefix / "nginx.pid").string() << ";\nerror_log " << (prefix / "logs/error.log").string()
      << ";\nevents {}\nhttp {\n  include " << (prefix / "tenants").string() << "/*.conf;\n}\n";
  harness_.settings()["network.nginx_prefix"] = prefix.string();
  auto answer = harness_.Apply(kController, tenant_);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("nginx")) << answer.message;
}

TEST_F(Ingress, IngressWithNginxDownIsTransient) {
  const auto prefix = harness_.TempPath("nginx-down");
  std::filesystem::create_directories(prefix / "tenants");
  std::filesystem::create_directories(prefix / "logs");
  std::ofstream(prefix / "nginx.conf")
      << "pid " << (prefix / "nginx.pid").string() << ";\nerror_log " << (prefix / "logs/error.log").string()
      << ";\nevents {}\nhttp {\n  include " << (prefix / "tenants").string() << "/*.conf;\n}\n";
  // Step 40's server, as it would have written it before nginx went down.
  std::ofstream(prefix / "tenants" / (tenant_.view.slug + ".conf"))
      << "server {\n  listen 127.0.0.1:" << StackEnv::Require("MATIH_NGINX_HTTP_PORT") << ";\n  server_name "
      << Zone(tenant_) << ";\n  include " << (prefix / "tenants").string() << "/" << tenant_.view.slug
      << ".d/*.conf;\n}\n";
  harness_.settings()["network.nginx_prefix"] = prefix.string();
  auto answer = harness_.Apply(kIngress, tenant_);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("nginx")) << answer.message;
}

TEST_F(Ingress, IngressServesACaCertificateOverHttpsResolvedThroughDns) {
  ApplyOk(kController, tenant_);
  ApplyOk(kZone, tenant_);
  auto absent = harness_.Observe(kIngress, tenant_);
  EXPECT_EQ(MATIH_STATUS_ABSENT, absent.status);
  EXPECT_TRUE(absent.outputs.empty()) << "nothing to adopt, no outputs";
  auto applied = harness_.Apply(kIngress, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, applied.status) << applied.message;

  struct stat st {};
  ASSERT_EQ(0, ::stat(KeyFile(tenant_).c_str(), &st));
  EXPECT_EQ(0600u, st.st_mode & 0777u);
  std::string out;
  EXPECT_EQ(0, RunCommand("openssl verify -CAfile '" + CaCert() + "' '" + CertFile(tenant_) + "'", &out))
      << out;
  const std::string sans = X509Field(CertFile(tenant_), "-ext subjectAltName");
  EXPECT_NE(std::string::npos, sans.find("DNS:*." + Zone(tenant_))) << sans;
  EXPECT_NE(std::string::npos, (sans + ",").find("DNS:" + Zone(tenant_) + ",")) << sans;

  for (const std::string& host : {"api." + Zone(tenant_), "bi." + Zone(tenant_), Zone(tenant_)}) {
    auto answer = Curl("https", host, "/healthz", Resolve(host));
    EXPECT_EQ(0, answer.exit_code) << host << ": " << answer.body;
    EXPECT_EQ("200", answer.status) << host;
    EXPECT_NE(std::string::npos, answer.body.find("\"tenant\":\"" + tenant_.view.slug + "\"")) << answer.body;
  }
  EXPECT_EQ(FileSerial(tenant_), ServedSerial("api." + Zone(tenant_)));

  const auto docs = YAML::LoadAll(GitFile(tenant_, kIngress));
  ASSERT_EQ(2u, docs.size());
  EXPECT_EQ("Certificate", docs[0]["kind"].as<std::string>());
  EXPECT_EQ("*." + Zone(tenant_), docs[0]["spec"]["dnsNames"][0].as<std::string>());
  EXPECT_EQ("ClusterIssuer", docs[0]["spec"]["issuerRef"]["kind"].as<std::string>());
  EXPECT_EQ("Ingress", docs[1]["kind"].as<std::string>());
  EXPECT_EQ("nginx-" + tenant_.view.slug, docs[1]["spec"]["ingressClassName"].as<std::string>());
  EXPECT_EQ("api." + Zone(tenant_), docs[1]["spec"]["rules"][0]["host"].as<std::string>());

  auto observed = harness_.Observe(kIngress, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
  EXPECT_EQ(applied.outputs, observed.outputs) << "adoptable: an in-sync observe reports the apply's outputs";
  for (const auto& [key, value] : tenant_.outputs[kIngress])
    EXPECT_EQ(std::string::npos, value.find("PRIVATE KEY")) << key;
  EXPECT_EQ("https://api." + Zone(tenant_) + ":" + StackEnv::Require("MATIH_NGINX_HTTPS_PORT"),
            tenant_.outputs[kIngress]["url"]);
}

TEST_F(Ingress, IngressSecondApplyIssuesWritesAndReloadsNothing) {
  ApplyAll(tenant_);
  const std::string serial = FileSerial(tenant_);
  const auto key_mtime = std::filesystem::last_write_time(KeyFile(tenant_));
  const std::string workers = NginxWorkers();
  ApplyOk(kIngress, tenant_);
  EXPECT_EQ(serial, FileSerial(tenant_));
  EXPECT_EQ(key_mtime, std::filesystem::last_write_time(KeyFile(tenant_)));
  EXPECT_EQ(workers, NginxWorkers()) << "nginx was reloaded";
}

TEST_F(Ingress, IngressCertificateNearExpiryIsDriftedAndRenewed) {
  ApplyAll(tenant_);
  const std::string zone = Zone(tenant_);
  // An operator's certificate for the same names and key, signed by the CA, expiring in 5 days.
  const auto ext = harness_.TempPath("san.ext");
  std::ofstream(ext) << "subjectAltName=DNS:*." << zone << ",DNS:" << zone << "\n";
  std::string out;
  ASSERT_EQ(0, RunCommand("openssl req -new -key '" + KeyFile(tenant_) + "' -subj '/CN=" + zone +
                              "' | openssl x509 -req -days 5 -set_serial 0x0BAD -CA '" + CaCert() +
                              "' -CAkey '" + StackEnv::Require("MATIH_CA_KEY") + "' -extfile '" +
                              ext.string() + "' -out '" + CertFile(tenant_) + "'",
                          &out))
      << out;
  ReloadNginx();
  ASSERT_EQ("0BAD", ServedSerial("api." + zone));
  auto observed = harness_.Observe(kIngress, tenant_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_TRUE(observed.outputs.empty()) << "a drifted observe reports no outputs";
  EXPECT_NE(std::string::npos, observed.message.find("expires in")) << observed.message;
  ApplyOk(kIngress, tenant_);
  EXPECT_NE("0BAD", FileSerial(tenant_));
  EXPECT_EQ(FileSerial(tenant_), ServedSerial("api." + zone)) << "nginx serves the renewed certificate";
  std::string end = X509Field(CertFile(tenant_), "-checkend " + std::to_string(60 * 86400));
  EXPECT_NE(std::string::npos, end.find("will not expire")) << end;
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kIngress, tenant_).status);
}

TEST_F(Ingress, IngressTlsListenerRemovedByHandIsFoundAndRepaired) {
  ApplyAll(tenant_);
  std::filesystem::remove(TlsFile(tenant_));
  ReloadNginx();
  const std::string host = "api." + Zone(tenant_);
  ASSERT_NE(0, Curl("https", host, "/healthz", Resolve(host)).exit_code);
  auto observed = harness_.Observe(kIngress, tenant_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("tls.conf")) << observed.message;
  ApplyOk(kIngress, tenant_);
  EXPECT_EQ("200", Curl("https", host, "/healthz", Resolve(host)).status);
}

TEST_F(Ingress, IngressRemoveLeavesNothingAndCanBeRepeated) {
  ApplyAll(tenant_);
  const std::string host = "api." + Zone(tenant_);
  const std::string address = Resolve(host);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kIngress, tenant_).status);
  EXPECT_FALSE(std::filesystem::exists(TlsFile(tenant_)));
  EXPECT_FALSE(std::filesystem::exists(NginxPrefix() + "/tenants/" + tenant_.view.slug + ".d"));
  EXPECT_FALSE(std::filesystem::exists(KeyFile(tenant_)));
  EXPECT_FALSE(std::filesystem::exists(CertFile(tenant_)));
  EXPECT_NE(0, Curl("https", host, "/healthz", address).exit_code) << "no certificate is served any more";
  EXPECT_EQ("200", Curl("http", host, "/healthz", address).status) << "step 40's server stays";
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kIngress, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kIngress, tenant_).status);
}

TEST_F(Ingress, TwoTenantsNeverSeeEachOthersServersOrCertificates) {
  ApplyAll(tenant_);
  ApplyAll(other_);
  const std::string a = "api." + Zone(tenant_), b = "api." + Zone(other_);
  EXPECT_EQ(FileSerial(tenant_), ServedSerial(a));
  EXPECT_EQ(FileSerial(other_), ServedSerial(b));
  EXPECT_EQ(std::string::npos, X509Field(CertFile(tenant_), "-ext subjectAltName").find(other_.view.slug));
  auto answer = Curl("https", b, "/healthz", Resolve(b));
  EXPECT_NE(std::string::npos, answer.body.find("\"tenant\":\"" + other_.view.slug + "\"")) << answer.body;
  EXPECT_EQ(std::string::npos, answer.body.find(tenant_.view.slug)) << answer.body;
  for (const auto& step : {kIngress, kZone, kController})
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(step, tenant_).status) << step;
  EXPECT_EQ("200", Curl("https", b, "/healthz", Resolve(b)).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kIngress, other_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kController, other_).status);
}

TEST_F(Ingress, IngressBeforeItsServerIsRefusedNamingStep40) {
  auto answer = harness_.Apply(kIngress, tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find(kController)) << answer.message;
}

TEST_F(Ingress, BadParamsAreRefusedAtCatalogLoadNamingTheParam) {
  for (const auto& step : {kController, kIngress}) {
    EXPECT_TRUE(harness_.KindOf(step).ValidateParams(harness_.Step(step).params_json).ok()) << step;
    auto status = harness_.KindOf(step).ValidateParams(R"({"parent_zone": "bad zone"})");
    EXPECT_FALSE(status.ok());
    EXPECT_NE(std::string::npos, status.message().find("bad zone")) << status.message();
  }
  struct Case {
    const char* params;
    const char* names;
  } cases[] = {
      {R"({"parent_zone": "t.example.com", "renew_days": 90, "validity_days": 60})", "renew_days"},
      {R"({"parent_zone": "t.example.com", "validity_days": 0})", "validity_days"},
      {R"({"parent_zone": "t.example.com", "hosts": [{"name": "a.b", "service": "s", "port": 80}]})", "a.b"},
      {R"({"parent_zone": "t.example.com", "hosts": [{"name": "api", "service": "s"}]})", "port"},
      {R"({"parent_zone": "t.example.com", "hosts": [{"name": "api", "service": "s", "port": 70000}]})",
       "port"},
  };
  for (const auto& c : cases) {
    auto status = harness_.KindOf(kIngress).ValidateParams(c.params);
    EXPECT_FALSE(status.ok()) << c.params;
    EXPECT_NE(std::string::npos, status.message().find(c.names)) << c.params << ": " << status.message();
  }
  auto status = harness_.KindOf(kController)
                    .ValidateParams(R"({"parent_zone": "t.example.com", "chart_repository": "ftp://x"})");
  EXPECT_NE(std::string::npos, status.message().find("chart_repository")) << status.message();
}

// The cluster objects of steps 40 and 42 as delivered to GitOps, one file per tier and step, into
// MATIH_RENDER_DIR for the offline schema check (validate_network_manifests.sh): the Flux
// HelmRelease and HelmRepository, the cert-manager Certificate and the Ingress.
TEST_F(Ingress, RendersItsClusterObjectsIntoFolder) {
  const char* env = std::getenv("MATIH_RENDER_DIR");
  const std::filesystem::path out = env ? env : harness_.TempPath("rendered");
  std::filesystem::create_directories(out);
  for (const std::string tier : {"free", "enterprise"}) {
    TestTenant t = StepHarness::MakeTenant(tier, "web");
    ApplyAll(t);
    for (const auto& step : {kController, kIngress}) {
      const std::string text = GitFile(t, step);
      ASSERT_FALSE(text.empty()) << step;
      std::ofstream(out / (tier + "-" + step + ".yaml")) << text;
    }
    for (const auto& step : {kIngress, kZone, kController})
      EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(step, t).status);
  }
}

}  // namespace
}  // namespace matih::testing
