// Steps 26-38 (kind services.helm_release) delivered to a real git repository (libgit2) and, in
// one suite, to the fake Kubernetes API server: one HelmRelease + HelmRepository per requested
// service in tenants/<slug>/<step>.yaml; a second apply commits nothing; a hand edit is DRIFTED
// and repaired (also on the bare remote Flux reads); a chart version changed in the catalog is
// drift rolled out by apply; a service the tenant did not request is never deployed and an old
// release of it is removed; bad params and values are refused naming the problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "fakes/fake_kube_api_server.h"
#include "steps/services/services_test_support.h"

namespace matih::testing {
namespace {

const std::vector<std::string> kServiceSteps = {
    "query-engine",     "catalog-service",    "semantic-layer",   "pipeline-service", "data-quality-service",
    "bi-service",       "ai-service",         "ml-service",       "data-plane-agent", "render-service",
    "ontology-service", "governance-service", "ops-agent-service"};

class HelmReleaseGitOps : public ::testing::Test {
 protected:
  void SetUp() override {
    ConfigureServices(harness_);
    tenant_ = StepHarness::MakeTenant("free");  // requests query-engine and bi-service
  }

  std::string repo() { return harness_.settings()["gitops.repository"]; }
  std::string Git(const std::string& args, const std::string& dir = "") {
    std::string out;
    int rc = RunCommand("git -C '" + (dir.empty() ? repo() : dir) + "' " + args, &out);
    EXPECT_EQ(0, rc) << "git " << args << ": " << out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  std::string Head(const std::string& dir = "") {
    std::string out;
    const std::string where = dir.empty() ? repo() : dir;
    if (!std::filesystem::exists(where) ||
        RunCommand("git -C '" + where + "' rev-parse -q --verify main", &out) != 0)
      return "";
    return out.substr(0, 40);
  }
  std::string File(const TestTenant& t, const std::string& step) {
    return "tenants/" + t.view.slug + "/" + step + ".yaml";
  }
  bool Exists(const TestTenant& t, const std::string& step) {
    std::string out;
    return RunCommand("git -C '" + repo() + "' cat-file -e main:" + File(t, step), &out) == 0;
  }
  // The step's objects at the branch tip, by kind.
  std::map<std::string, nlohmann::json> Objects(const TestTenant& t, const std::string& step,
                                                const std::string& dir = "") {
    std::map<std::string, nlohmann::json> out;
    for (auto& doc : plugins::ParseYamlDocuments(Git("show main:" + File(t, step), dir)))
      out[doc["kind"].get<std::string>()] = doc;
    return out;
  }
  void Apply(const std::string& step, TestTenant& t) {
    auto answer = harness_.Apply(step, t);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << step << ": " << answer.message;
  }
  void HandEdit(const TestTenant& t, const std::string& step, const std::string& from,
                const std::string& to) {
    std::string text = Git("show main:" + File(t, step)) + "\n";
    ASSERT_NE(std::string::npos, text.find(from)) << text;
    text.replace(text.find(from), from.size(), to);
    std::ofstream(repo() + "/" + File(t, step)) << text;
    Git("-c user.name=operator -c user.email=op@example.com commit -qam 'hand edit of " + step + "'");
  }

  StepHarness harness_;
  TestTenant tenant_;
};

TEST_F(HelmReleaseGitOps, RequestedServiceIsAbsentThenAppliedOnceThenInSync) {
  for (const std::string step : {"query-engine", "bi-service"}) {
    SCOPED_TRACE(step);
    EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(step, tenant_).status);
    const std::string before = Head();
    auto answer = harness_.Apply(step, tenant_);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
    const std::string after = Head();
    EXPECT_NE(before, after);
    EXPECT_EQ(0u, Git("log -1 --format=%s main").rfind("tenant " + tenant_.view.slug + ": step " + step));
    EXPECT_EQ("true", answer.outputs["deployed"]);
    EXPECT_EQ(step, answer.outputs["release"]);
    EXPECT_EQ("https://" + step + "." + tenant_.view.slug + "." + kParentZone, answer.outputs["url"]);
    auto observed = harness_.Observe(step, tenant_);
    EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
    EXPECT_EQ(answer.outputs, observed.outputs)
        << "adoptable: an in-sync observe reports the apply's outputs";
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(step, tenant_).status);
    EXPECT_EQ(after, Head()) << "a second apply must not commit";
  }
  EXPECT_EQ("2", Git("rev-list --count main"));
}

TEST_F(HelmReleaseGitOps, ReleaseNamesPinnedChartItsRepositoryAndTheTiersValues) {
  struct Expect {
    const char* tier;
    int replicas;
    const char* cpu_limit;
    bool autoscaling;
  };
  for (const Expect& e : {Expect{"free", 1, "2", false}, Expect{"starter", 1, "4", false},
                          Expect{"professional", 2, "8", true}, Expect{"enterprise", 4, "16", true}}) {
    SCOPED_TRACE(e.tier);
    TestTenant t = StepHarness::MakeTenant(e.tier);
    Apply("query-engine", t);
    auto objects = Objects(t, "query-engine");
    ASSERT_EQ(2u, objects.size());
    const auto& repo = objects["HelmRepository"];
    EXPECT_EQ("source.toolkit.fluxcd.io/v1", repo["apiVersion"]);
    EXPECT_EQ("https://charts.matih.ai/stable", repo["spec"]["url"]);
    EXPECT_EQ("tenant-" + t.view.slug, repo["metadata"]["namespace"]);
    const auto& hr = objects["HelmRelease"];
    EXPECT_EQ("helm.toolkit.fluxcd.io/v2", hr["apiVersion"]);
    EXPECT_EQ("query-engine", hr["metadata"]["name"]);
    EXPECT_EQ("tenant-" + t.view.slug, hr["metadata"]["namespace"]);
    EXPECT_EQ(t.view.id, hr["metadata"]["labels"]["matih.ai/tenant-id"]);
    const auto& chart = hr["spec"]["chart"]["spec"];
    EXPECT_EQ("query-engine", chart["chart"]);
    EXPECT_EQ("2.3.1", chart["version"]);
    EXPECT_EQ(repo["metadata"]["name"], chart["sourceRef"]["name"]);
    EXPECT_EQ("HelmRepository", chart["sourceRef"]["kind"]);
    const auto& values = hr["spec"]["values"];
    EXPECT_EQ(e.replicas, values["replicas"]);
    EXPECT_EQ(e.cpu_limit, values["resources"]["limits"]["cpu"]);
    EXPECT_EQ(e.autoscaling, values["autoscaling"]["enabled"]);
    EXPECT_EQ(t.view.id, values["matih"]["tenant"]["id"]);
    EXPECT_EQ(e.tier, values["matih"]["tenant"]["tier"]);
    EXPECT_EQ("https://query-engine." + t.view.slug + "." + kParentZone, values["matih"]["publicUrl"]);
    // Secrets are named, never written.
    EXPECT_EQ("tenant-database", values["database"]["existingSecret"]);
    EXPECT_FALSE(values["database"].contains("password"));
  }
}

TEST_F(HelmReleaseGitOps, EarlierOutputsAreWiredIntoValuesAndAbsentOnesOmitted) {
  tenant_.outputs["provision-database"]["host"] = "pg.shared.internal";
  tenant_.outputs["provision-database"]["database"] = "tenant_db";
  tenant_.outputs["create-managed-identity"]["client_id"] = "1b0c8a3e-0000-4000-8000-000000000001";
  auto answer = harness_.Apply("query-engine", tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  const auto values = Objects(tenant_, "query-engine")["HelmRelease"]["spec"]["values"];
  EXPECT_EQ("pg.shared.internal", values["database"]["host"]);
  EXPECT_EQ("tenant_db", values["database"]["name"]);
  EXPECT_FALSE(values["database"].contains("port")) << "provision-database recorded no port";
  EXPECT_FALSE(values.contains("cache") && values["cache"].contains("host"));
  EXPECT_EQ("1b0c8a3e-0000-4000-8000-000000000001",
            values["serviceAccount"]["annotations"]["azure.workload.identity/client-id"]);
  EXPECT_EQ("/database/host,/database/name,/serviceAccount/annotations/azure.workload.identity~1client-id",
            answer.outputs["wired_outputs"]);

  // An output that appears later (the step ran since) is drift the next pass fills in.
  tenant_.outputs["provision-database"]["port"] = "5432";
  auto observed = harness_.Observe("query-engine", tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("+'port: \"5432\"'")) << observed.message;
  Apply("query-engine", tenant_);
  EXPECT_EQ("5432", Objects(tenant_, "query-engine")["HelmRelease"]["spec"]["values"]["database"]["port"]);
}

// The remote is what Flux applies: an edit someone pushed straight to it is drift, and the
// repair is committed on top of it and pushed.
TEST_F(HelmReleaseGitOps, HandEditPushedStraightToTheRemoteIsDriftedAndRepaired) {
  const std::string remote = harness_.TempPath("remote.git").string();
  ASSERT_EQ(0, RunCommand("git init -q --bare '" + remote + "'"));
  harness_.settings()["gitops.remote"] = remote;
  harness_.settings()["gitops.fetch_interval_ms"] = "0";  // observe sees every push at once
  Apply("query-engine", tenant_);
  Apply("bi-service", tenant_);
  const std::string good = Git("show main:" + File(tenant_, "query-engine"), remote);

  const std::string clone = harness_.TempPath("operator-clone").string();
  ASSERT_EQ(0, RunCommand("git clone -q -b main '" + remote + "' '" + clone + "'"));
  const std::string path = clone + "/" + File(tenant_, "query-engine");
  std::string text = good + "\n";
  ASSERT_NE(std::string::npos, text.find("replicas: 1"));
  text.replace(text.find("replicas: 1"), 11, "replicas: 5");
  std::ofstream(path) << text;
  Git("-c user.name=operator -c user.email=op@example.com commit -qam 'scale query-engine by hand'", clone);
  Git("push -q origin main", clone);
  const std::string hand = Head(remote);
  ASSERT_NE(Head(), hand) << "the work repository has not seen the edit";

  auto observed = harness_.Observe("query-engine", tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status) << observed.message;
  EXPECT_NE(std::string::npos, observed.message.find("-'replicas: 5'")) << observed.message;
  EXPECT_NE(std::string::npos, observed.message.find("+'replicas: 1'")) << observed.message;
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("bi-service", tenant_).status)
      << "the edit is not bi-service's";

  Apply("query-engine", tenant_);
  EXPECT_EQ(Head(), Head(remote));
  EXPECT_EQ(hand, Git("rev-parse main~1", remote)) << "the repair lands on top of the hand edit";
  EXPECT_EQ(good, Git("show main:" + File(tenant_, "query-engine"), remote));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("query-engine", tenant_).status);
  EXPECT_EQ("", Git("status --porcelain")) << "the work tree follows the branch";
}

TEST_F(HelmReleaseGitOps, HandEditOfTheChartVersionIsDriftedAndRepaired) {
  Apply("bi-service", tenant_);
  HandEdit(tenant_, "bi-service", "version: \"4.0.3\"", "version: \"9.9.9\"");
  auto observed = harness_.Observe("bi-service", tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("9.9.9")) << observed.message;
  Apply("bi-service", tenant_);
  EXPECT_EQ("4.0.3", Objects(tenant_, "bi-service")["HelmRelease"]["spec"]["chart"]["spec"]["version"]);
}

TEST_F(HelmReleaseGitOps, ChartVersionChangedInTheCatalogIsDriftThatApplyRollsOut) {
  Apply("query-engine", tenant_);
  TestTenant other = StepHarness::MakeTenant("professional");
  Apply("query-engine", other);
  auto params = CatalogParams(harness_, "query-engine");
  params["chart"]["version"] = "2.4.0";
  harness_.SetParams("query-engine", params.dump());
  for (TestTenant* t : {&tenant_, &other}) {
    auto observed = harness_.Observe("query-engine", *t);
    ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
    EXPECT_NE(std::string::npos, observed.message.find("-'version: \"2.3.1\"'")) << observed.message;
    EXPECT_NE(std::string::npos, observed.message.find("+'version: \"2.4.0\"'")) << observed.message;
    auto answer = harness_.Apply("query-engine", *t);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
    EXPECT_EQ("query-engine@2.4.0", answer.outputs["chart"]);
    EXPECT_EQ("2.4.0", Objects(*t, "query-engine")["HelmRelease"]["spec"]["chart"]["spec"]["version"]);
    EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("query-engine", *t).status);
  }
}

TEST_F(HelmReleaseGitOps, ServiceNotRequestedIsNeverDeployed) {
  const std::string before = Head();
  auto observed = harness_.Observe("catalog-service", tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << "nothing deployed is what the spec asks for";
  auto answer = harness_.Apply("catalog-service", tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_EQ(answer.outputs, observed.outputs) << "adoptable: an in-sync observe reports the apply's outputs";
  EXPECT_EQ("false", answer.outputs["deployed"]);
  EXPECT_EQ("", answer.outputs["url"]);
  EXPECT_EQ(before, Head()) << "no commit for a service the tenant did not request";
  EXPECT_FALSE(std::filesystem::exists(repo() + "/" + File(tenant_, "catalog-service")));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("catalog-service", tenant_).status);
}

TEST_F(HelmReleaseGitOps, ServiceDroppedFromTheSpecIsDriftedAndApplyRemovesIt) {
  Apply("bi-service", tenant_);
  Apply("query-engine", tenant_);
  RequestServices(tenant_, {"query-engine"});
  auto observed = harness_.Observe("bi-service", tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("not in the tenant's services")) << observed.message;
  auto answer = harness_.Apply("bi-service", tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_EQ("false", answer.outputs["deployed"]);
  EXPECT_FALSE(Exists(tenant_, "bi-service"));
  EXPECT_TRUE(Exists(tenant_, "query-engine"));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("bi-service", tenant_).status);
}

TEST_F(HelmReleaseGitOps, RemoveDeletesTheReleaseAndRemovingAgainWritesNothing) {
  Apply("query-engine", tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove("query-engine", tenant_).status);
  EXPECT_FALSE(Exists(tenant_, "query-engine"));
  EXPECT_EQ(
      0u, Git("log -1 --format=%s main").rfind("tenant " + tenant_.view.slug + ": remove step query-engine"));
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe("query-engine", tenant_).status);
  const std::string removed = Head();
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove("query-engine", tenant_).status);
  EXPECT_EQ(removed, Head()) << "removing again must not commit";
  EXPECT_EQ("", Git("ls-tree -r --name-only main tenants/" + tenant_.view.slug));
}

TEST_F(HelmReleaseGitOps, ObserveAndRemoveBeforeAnyApplyCreateNothing) {
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe("query-engine", tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove("query-engine", tenant_).status);
  EXPECT_FALSE(std::filesystem::exists(repo()));
}

TEST_F(HelmReleaseGitOps, TwoTenantsAreIsolated) {
  TestTenant other = StepHarness::MakeTenant("starter", "other");
  Apply("query-engine", tenant_);
  Apply("query-engine", other);
  EXPECT_EQ("tenant-" + other.view.slug,
            Objects(other, "query-engine")["HelmRelease"]["metadata"]["namespace"].get<std::string>());
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove("query-engine", tenant_).status);
  EXPECT_FALSE(Exists(tenant_, "query-engine"));
  EXPECT_TRUE(Exists(other, "query-engine"));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("query-engine", other).status);
}

TEST_F(HelmReleaseGitOps, KustomizeBuildsTheTenantFolderWithItsNamespace) {
  Apply("create-namespace", tenant_);
  Apply("query-engine", tenant_);
  Apply("bi-service", tenant_);
  std::string out;
  ASSERT_EQ(0, RunCommand("kubectl kustomize '" + repo() + "/tenants/" + tenant_.view.slug + "'", &out))
      << out;
  std::map<std::string, int> kinds;
  for (const auto& doc : plugins::ParseYamlDocuments(out)) kinds[doc["kind"].get<std::string>()]++;
  EXPECT_EQ(1, kinds["Namespace"]);
  EXPECT_EQ(2, kinds["HelmRelease"]);
  EXPECT_EQ(2, kinds["HelmRepository"]);
}

TEST_F(HelmReleaseGitOps, UnreachableRemoteIsTransient) {
  harness_.settings()["gitops.remote"] = harness_.TempPath("missing.git").string();
  auto answer = harness_.Apply("query-engine", tenant_);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, answer.status) << answer.message;
}

TEST_F(HelmReleaseGitOps, ValuesOutsideTheSchemaAreRefusedAndNothingIsDelivered) {
  auto params = CatalogParams(harness_, "query-engine");
  params["values"]["logLevel"] = "chatty";
  params["values"]["colour"] = "blue";
  harness_.SetParams("query-engine", params.dump());
  auto answer = harness_.Apply("query-engine", tenant_);
  EXPECT_EQ(MATIH_STATUS_INVALID_ARGUMENT, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("query-engine.values.schema.json")) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("values.logLevel: must be one of")) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("values.colour: is not allowed")) << answer.message;
  EXPECT_EQ("", Head()) << "nothing was committed";
  EXPECT_EQ(MATIH_STATUS_INVALID_ARGUMENT, harness_.Observe("query-engine", tenant_).status);
}

TEST_F(HelmReleaseGitOps, SchemaWithAKeywordOurCheckerLacksIsRefused) {
  const auto dir = harness_.TempPath("schemas");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "query-engine.values.schema.json")
      << R"({"type": "object", "properties": {"replicas": {"oneOf": [{"type": "integer"}]}}})";
  harness_.settings()["services.values_schema_dir"] = dir.string();
  auto answer = harness_.Apply("query-engine", tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("keyword 'oneOf' is not supported")) << answer.message;
  EXPECT_EQ("", Head());
}

TEST_F(HelmReleaseGitOps, MissingSchemaIsAPermanentErrorNamingTheSetting) {
  harness_.settings().erase("services.values_schema_dir");
  auto answer = harness_.Apply("query-engine", tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("services.values_schema_dir")) << answer.message;
}

// Every catalog entry of steps 26-38 is accepted, and each bad param is refused with a message
// naming it (validate_params runs at catalog load).
TEST(HelmReleaseParams, EveryCatalogEntryIsAccepted) {
  StepHarness harness;
  for (const auto& step : kServiceSteps) {
    const auto& s = harness.Step(step);
    EXPECT_EQ("services.helm_release", s.kind) << step;
    EXPECT_EQ(step, nlohmann::json::parse(s.params_json)["service"]) << step;
    auto status = harness.KindOf(step).ValidateParams(s.params_json);
    EXPECT_TRUE(status.ok()) << step << ": " << status.ToString();
  }
}

TEST(HelmReleaseParams, BadChartOrValuesAreRefusedNamingThem) {
  StepHarness harness;
  const auto good = CatalogParams(harness, "query-engine");
  struct Case {
    std::string pointer;
    nlohmann::json value;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"/chart/version", "latest", "chart.version 'latest' of chart query-engine is not a pinned SemVer"},
      {"/chart/version", "^2.3.0", "is not a pinned SemVer"},
      {"/chart/version", 2.3, "chart.version must be a string (quote it in YAML"},
      {"/chart/name", "Query_Engine", "chart.name 'Query_Engine' is not a valid chart name"},
      {"/chart/repository", "ftp://charts.example.com", "must be an https:// or oci:// URL"},
      {"/chart/repository", "https://user:pw@charts.example.com", "must not carry credentials"},
      {"/chart/digest", "sha256:00", "unknown key chart.digest"},
      {"/values/database/password", "hunter2", "values.database.password: plaintext secrets do not belong"},
      {"/tiers/free/replicas", -1, "tiers.free.replicas must be an integer >= 0"},
      {"/tiers/free/resources/requests/cpu", "3", "requests.cpu \"3\" exceeds limits.cpu \"2\""},
      {"/tiers/free/resources/limits/memory", "lots", "is not a Kubernetes quantity"},
      {"/tiers/professional/autoscaling/maxReplicas", 1, "maxReplicas must not be below minReplicas"},
      {"/tiers/gold", nlohmann::json::object(), "tiers.gold is not a tier"},
      {"/from_outputs/~1cache~1password", "provision-cache.password", "step outputs never hold secrets"},
      {"/from_outputs/~1database~1host", "provision-database", "must be \"<step>.<output>\""},
      {"/interval", "often", "param interval 'often' is not a duration"},
      {"/replicas", 3, "unknown param 'replicas'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.pointer);
    auto params = good;
    params[nlohmann::json::json_pointer(c.pointer)] = c.value;
    auto status = harness.KindOf("query-engine").ValidateParams(params.dump());
    ASSERT_FALSE(status.ok());
    EXPECT_NE(std::string::npos, status.message().find(c.message)) << status.message();
    EXPECT_NE(std::string::npos, status.message().find("service query-engine")) << status.message();
  }
  auto missing = good;
  missing.erase("chart");
  EXPECT_NE(std::string::npos,
            harness.KindOf("query-engine").ValidateParams(missing.dump()).message().find("param chart"));
}

// Server-side apply of the two objects to the fake API server (no kube-apiserver can run here).
class HelmReleaseApi : public ::testing::Test {
 protected:
  void SetUp() override {
    ConfigureServices(harness_);
    tenant_ = StepHarness::MakeTenant("professional");
    auto& s = harness_.settings();
    const std::string token = harness_.TempPath("token").string();
    std::ofstream(token) << "service-account-token\n";
    server_.RequireBearerToken("service-account-token");
    s["kubernetes.delivery"] = "api";
    s["kubernetes.api_url"] = server_.url();
    s["kubernetes.allow_http"] = "true";
    s["kubernetes.token_file"] = token;
    s["kubernetes.timeout_ms"] = "5000";
  }
  std::string Path(const std::string& kind_path) {
    return kind_path + "/namespaces/tenant-" + tenant_.view.slug;
  }
  FakeKubeApiServer server_;
  StepHarness harness_;
  TestTenant tenant_;
};

TEST_F(HelmReleaseApi, AppliedObservedEditedRepairedAndRemoved) {
  const std::string release = Path("/apis/helm.toolkit.fluxcd.io/v2") + "/helmreleases/query-engine";
  const std::string source =
      Path("/apis/source.toolkit.fluxcd.io/v1") + "/helmrepositories/query-engine-charts";
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-namespace", tenant_).status);
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe("query-engine", tenant_).status);
  auto answer = harness_.Apply("query-engine", tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  ASSERT_TRUE(server_.Get(release).has_value());
  ASSERT_TRUE(server_.Get(source).has_value());
  EXPECT_EQ(2, (*server_.Get(release))["spec"]["values"]["replicas"]);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("query-engine", tenant_).status);

  harness_.settings()["kubernetes.force_conflicts"] = "true";  // take the field back from kubectl
  server_.Edit(release, "kubectl-edit", {{"spec", {{"values", {{"replicas", 9}}}}}});
  auto observed = harness_.Observe("query-engine", tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("replicas")) << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("query-engine", tenant_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("query-engine", tenant_).status);

  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove("query-engine", tenant_).status);
  EXPECT_FALSE(server_.Get(release).has_value());
  EXPECT_FALSE(server_.Get(source).has_value());
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove("query-engine", tenant_).status);
}

TEST_F(HelmReleaseApi, ServiceNotRequestedSendsNoApplyRequest) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("ml-service", tenant_).status);
  for (const auto& r : server_.requests()) EXPECT_NE("PATCH", r.method) << r.path;
  EXPECT_EQ(0u, server_.object_count());
}

// Renders every service for a tenant of one tier into MATIH_RENDER_DIR, for the offline schema
// validation (ctest steps.services.validate_flux_manifests); one test per tier keeps each short.
class RenderFluxManifests : public HelmReleaseGitOps {
 protected:
  void RenderTier(const std::string& tier) {
    const char* env = std::getenv("MATIH_RENDER_DIR");
    const std::filesystem::path out = env ? env : harness_.TempPath("rendered");
    std::filesystem::create_directories(out);
    for (const auto& entry : std::filesystem::directory_iterator(out))
      if (entry.path().filename().string().rfind(tier + "-", 0) == 0) std::filesystem::remove(entry.path());
    TestTenant t = StepHarness::MakeTenant(tier, tier);
    RequestServices(t, kServiceSteps);
    for (const auto& step : kServiceSteps) {
      Apply(step, t);
      // The work tree follows the commits: read it rather than spawning git for every file.
      std::ifstream in(repo() + "/" + File(t, step));
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::ofstream(out / (tier + "-" + step + ".yaml")) << text;
      // The values alone, for the check against config/services/<service>.values.schema.json.
      for (const auto& doc : plugins::ParseYamlDocuments(text))
        if (doc["kind"] == "HelmRelease")
          std::ofstream(out / (tier + "-" + step + ".values.json")) << doc["spec"]["values"].dump(2) << "\n";
    }
    size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(out))
      files += entry.path().filename().string().rfind(tier + "-", 0) == 0;
    EXPECT_EQ(2u * kServiceSteps.size(), files);
  }
};

TEST_F(RenderFluxManifests, FreeTierIntoFolder) { RenderTier("free"); }
TEST_F(RenderFluxManifests, StarterTierIntoFolder) { RenderTier("starter"); }
TEST_F(RenderFluxManifests, ProfessionalTierIntoFolder) { RenderTier("professional"); }
TEST_F(RenderFluxManifests, EnterpriseTierIntoFolder) { RenderTier("enterprise"); }

}  // namespace
}  // namespace matih::testing
