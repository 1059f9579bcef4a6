// A dedicated tenant end to end through the real engine and the real plugins: FREE on the shared
// targets, upgraded to PROFESSIONAL (phase 7 with the real terraform, then its Kubernetes objects
// and data moved to the targets Terraform made for it: its own GitOps repository and Flux source,
// the stack's second PostgreSQL, Redis, NATS and Chroma), and nothing of it left on the shared
// ones, nor of its phase-6 audit stream and Kyverno policies (steps 45 and 48, `placed: true` in
// the catalog); then its
// teardown, which removes phases 2-5 on its own targets, destroys its infrastructure and drops
// the workspace's state. A subset of config/catalog.yaml (steps 3, 7, 14, 15, 21-23, 25, 26, 45,
// 48, 50-52, 54) with their real kinds, params and placement keeps it fast. Skipped with a message
// naming terraform when it is missing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <sstream>

#include "engine/batch_run.h"
#include "engine/tier_upgrade.h"
#include "plugin_host/plugin_host.h"
#include "steps/step_harness.h"
#include "storage/blob_client.h"
#include "store/database.h"
#include "store/tenant_store.h"
#include "support/stack_env.h"

namespace matih::testing {
namespace {

namespace fs = std::filesystem;
using namespace matih::runner;
using S = TenantStatus;

bool HaveTerraform() { return RunCommand("command -v terraform >/dev/null 2>&1") == 0; }

class DedicatedUpgrade : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveTerraform())
      GTEST_SKIP() << "the `terraform` binary is not on PATH (setting terraform.binary): the dedicated tier "
                      "(steps 50-54) cannot run";
    shared_pg_ = StackEnv::Require("MATIH_PG_ADMIN_URL");
    dedicated_pg_ = StackEnv::Require("MATIH_PG_DEDICATED_ADMIN_URL");
    const std::string url = harness_.database().url();
    auto& s = harness_.settings();
    shared_remote_ = harness_.TempPath("shared-remote.git");
    ASSERT_EQ(0, RunCommand("git init -q --bare " + shared_remote_.string()));
    s["gitops.remote"] = shared_remote_.string();
    s["data.shared.database_url"] = shared_pg_;
    s["data.dedicated.database_url"] = shared_pg_;  // the runner's default, as in the demo: overlaid
    s["terraform.database_url"] = url + (url.find('?') == std::string::npos ? "?" : "&") + "sslmode=disable";
    s["terraform.modules_dir"] = std::string(MATIH_SOURCE_DIR) + "/config/terraform/local";
    s["terraform.work_dir"] = harness_.TempPath("tf").string();
    s["terraform.local_root"] = local_root_ = harness_.TempPath("local").string();
    s["terraform.dedicated_database_url"] = dedicated_pg_;
    shared_redis_ = StackEnv::Require("MATIH_REDIS_URL");
    shared_redis_password_ = StackEnv::Require("MATIH_REDIS_PASSWORD_FILE");
    dedicated_redis_ = StackEnv::Require("MATIH_REDIS_DEDICATED_URL");
    dedicated_redis_password_ = StackEnv::Require("MATIH_REDIS_DEDICATED_PASSWORD_FILE");
    for (const char* c : {"data.shared.", "data.dedicated."}) {
      s[std::string(c) + "redis_url"] = shared_redis_;
      s[std::string(c) + "redis_password_file"] = shared_redis_password_;
    }
    s["terraform.dedicated_redis_url"] = dedicated_redis_;
    s["terraform.dedicated_redis_password_file"] = dedicated_redis_password_;
    shared_nats_monitor_ = StackEnv::Require("MATIH_NATS_MONITOR_URL");
    dedicated_nats_monitor_ = StackEnv::Require("MATIH_NATS_DEDICATED_MONITOR_URL");
    s["data.shared.nats_url"] = s["data.dedicated.nats_url"] = StackEnv::Require("MATIH_NATS_URL");
    s["terraform.dedicated_nats_url"] = StackEnv::Require("MATIH_NATS_DEDICATED_URL");
    s["vector.chroma_url"] = shared_chroma_ = StackEnv::Require("MATIH_CHROMA_URL");
    s["terraform.dedicated_chroma_url"] = dedicated_chroma_ = StackEnv::Require("MATIH_CHROMA_DEDICATED_URL");
    s["services.values_schema_dir"] = std::string(MATIH_SOURCE_DIR) + "/config/services";
    s["storage.blob_endpoint"] = StackEnv::Require("MATIH_AZURITE_BLOB_ENDPOINT");
    s["storage.account_keys_file"] = StackEnv::Require("MATIH_AZURITE_ACCOUNTS_FILE");
    s["storage.shared_account"] = shared_account_ = StackEnv::Require("MATIH_AZURITE_SHARED_ACCOUNT");
    s["storage.dedicated_accounts"] = StackEnv::Require("MATIH_AZURITE_POOL_ACCOUNTS");
    s["storage.database_url"] = url;

    std::ostringstream y;
    y << "version: 1\nphases: {1: control-plane, 2: kubernetes, 3: storage, 4: data, 5: services, 6: "
         "observability, 7: cloud}\n"
      << "flows:\n  free: {placement: shared, phases: [1, 2, 3, 4, 5, 6], placed: [2, 3, 4, 5]}\n"
      << "  professional: {placement: dedicated, phases: [1, 7, 2, 3, 4, 5, 6], placed: [2, 3, 4, 5]}\n"
      << "defaults:\n  retry: {attempts: 2, initial_backoff: 10ms, max_backoff: 20ms}\n  timeout: "
         "60s\nsteps:\n";
    for (const char* name :
         {"create-tenant-record", "create-namespace", "create-storage-account", "create-storage-containers",
          "provision-database", "provision-cache", "provision-vector-store", "create-message-topics",
          "query-engine", "enable-audit-logging", "apply-compliance-policies", "acquire-terraform-state-lock",
          "terraform-plan", "terraform-apply", "register-dedicated-cluster"}) {
      const CatalogStep& step = harness_.Step(name);
      y << "  - {number: " << step.number << ", name: " << name << ", phase: " << step.phase
        << ", kind: " << step.kind << ", tiers: [free, professional], params: " << step.params_json
        << (step.when_service.empty() ? "" : ", when_service: " + step.when_service)
        << (step.placed ? std::string(", placed: ") + (*step.placed ? "true" : "false") : "") << "}\n";
    }
    auto catalog = StepCatalog::LoadString(y.str(), "dedicated test catalog");
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::make_unique<StepCatalog>(std::move(*catalog));

    engine_.settings = s;
    const auto* host = dynamic_cast<const PluginHost*>(&StepHarness::Kinds());
    ASSERT_NE(host, nullptr);
    for (const auto& p : host->plugins())
      for (const auto& d : p.settings) engine_.declared_settings[p.name][d.name] = d.secret;
    database_ = std::make_unique<Database>(url);
  }

  void TearDown() override {
    if (slug_.empty()) return;
    for (const std::string& server : {shared_pg_, dedicated_pg_}) {
      try {
        pqxx::connection c(server);
        pqxx::nontransaction tx(c);
        tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(SqlName()) + " WITH (FORCE)");
        tx.exec("DROP ROLE IF EXISTS " + tx.quote_name(SqlName()));
      } catch (const std::exception&) {
      }
    }
  }

  void Add(const std::string& tier) {
    TestTenant t = StepHarness::MakeTenant(tier, "up");
    slug_ = t.view.slug;
    auto added =
        TenantStore(*database_)
            .Add({slug_, tier, "eu-west", "admin@" + slug_ + ".example.com", t.view.spec_json}, "test");
    ASSERT_TRUE(added.ok()) << added.status().ToString();
  }

  RunSummary Run() {
    ServiceDeps deps;
    deps.catalog = catalog_.get();
    deps.kinds = &StepHarness::Kinds();
    deps.secrets = &harness_.secrets();
    deps.options = &engine_;
    deps.run_id = NewUuid();
    deps.runner = "test-runner";
    RunOptions options;
    options.slug = slug_;
    auto run = BatchRun(*database_, deps, options).Execute();
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? *run : RunSummary{};
  }

  TenantRecord Tenant() { return *TenantStore(*database_).Get(slug_); }
  std::string SqlName() {
    std::string n = "t_" + slug_;
    for (char& c : n)
      if (c == '-') c = '_';
    return n;
  }
  bool HasDatabase(const std::string& server) {
    pqxx::connection c(server);
    pqxx::nontransaction tx(c);
    return tx.exec1("SELECT count(*) FROM pg_database WHERE datname = " + tx.quote(SqlName()))[0].as<int>() ==
           1;
  }
  // Files of the tenant in a repository's branch main (a bare remote or a working repository).
  std::string TenantFiles(const fs::path& repo) {
    std::string out;
    RunCommand("git -C " + repo.string() + " ls-tree -r --name-only main 2>/dev/null | grep -- '" + slug_ +
                   "' || true",
               &out);
    return out;
  }
  // Containers of the tenant in a storage account of the stack's Azurite.
  size_t Containers(const std::string& account) {
    std::ifstream in(harness_.settings()["storage.account_keys_file"]);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), entry, key;
    std::stringstream entries(all);
    while (std::getline(entries, entry, ';'))
      if (entry.rfind(account + ":", 0) == 0) key = entry.substr(account.size() + 1);
    while (!key.empty() && (key.back() == '\n' || key.back() == ' ')) key.pop_back();
    plugins::storage::BlobClient client(harness_.settings()["storage.blob_endpoint"], {account, key},
                                        std::chrono::seconds(5), "test");
    return client.ListContainers(slug_).size();
  }
  std::string AccountOf(const TenantRecord& t) {
    auto steps = TenantStore(*database_).Steps(t.id);
    for (const auto& s : *steps)
      if (s.name == "create-storage-account" && s.outputs.count("account_name"))
        return s.outputs.at("account_name");
    return "";
  }
  // Whether the Redis at `url` (redis://matih-admin@127.0.0.1:PORT) has the tenant's ACL user.
  bool HasCacheUser(const std::string& url, const std::string& password_file) {
    const std::string port = url.substr(url.rfind(':') + 1);
    std::string out;
    RunCommand("REDISCLI_AUTH=$(cat " + password_file +
                   ") redis-cli --no-auth-warning --user matih-admin -h 127.0.0.1 -p " + port + " ACL USERS",
               &out);
    return out.find("t:" + slug_ + "\n") != std::string::npos;
  }
  // Streams of the tenant (its topics' stream and its audit stream audit-<slug>, both named after
  // its slug) on the NATS whose monitoring endpoint is `monitor`, counted over every account;
  // with `only`, the streams of that name.
  int Streams(const std::string& monitor, const std::string& only = "") {
    std::string out;
    EXPECT_EQ(0, RunCommand("curl -sf '" + monitor + "/jsz?accounts=true&streams=true'", &out)) << monitor;
    auto jsz = nlohmann::json::parse(out, nullptr, false);
    EXPECT_TRUE(jsz.is_object()) << out;
    int n = 0;
    if (!jsz.is_object()) return -1;
    for (const auto& account : jsz.value("account_details", nlohmann::json::array()))
      for (const auto& stream : account.value("stream_detail", nlohmann::json::array()))
        if (only.empty() ? stream.value("name", "").find(slug_) != std::string::npos
                         : stream.value("name", "") == only)
          ++n;
    return n;
  }
  // Databases of the tenant's Chroma tenant (matih-<slug>) on the Chroma at `url`, and the
  // collections in them: 0 when Chroma does not know the tenant.
  int ChromaObjects(const std::string& url) {
    const std::string tenant = url + "/api/v2/tenants/matih-" + slug_;
    std::string out;
    if (RunCommand("curl -sf '" + tenant + "' >/dev/null") != 0) return 0;  // no such tenant
    EXPECT_EQ(0, RunCommand("curl -sf '" + tenant + "/databases'", &out)) << tenant;
    auto databases = nlohmann::json::parse(out, nullptr, false);
    EXPECT_TRUE(databases.is_array()) << out;
    if (!databases.is_array()) return -1;
    int n = 0;
    for (const auto& d : databases) {
      ++n;
      std::string list;
      EXPECT_EQ(0, RunCommand("curl -sf '" + tenant + "/databases/" + d.value("name", "") + "/collections'",
                              &list));
      auto collections = nlohmann::json::parse(list, nullptr, false);
      if (collections.is_array()) n += static_cast<int>(collections.size());
    }
    return n;
  }
  fs::path ClusterDir() { return fs::path(local_root_) / "clusters" / slug_; }
  long long StateRows() {
    pqxx::connection c(harness_.database().url());
    pqxx::nontransaction tx(c);
    if (tx.exec1("SELECT to_regclass('matih_tfstate_dedicated.states')")[0].is_null()) return 0;
    return tx
        .exec1("SELECT count(*) FROM matih_tfstate_dedicated.states WHERE name = " +
               tx.quote("tenant-" + slug_))[0]
        .as<long long>();
  }

  StepHarness harness_;
  EngineOptions engine_;
  std::unique_ptr<StepCatalog> catalog_;
  std::unique_ptr<Database> database_;
  std::string shared_pg_, dedicated_pg_, local_root_, slug_, shared_account_;
  std::string shared_redis_, shared_redis_password_, dedicated_redis_, dedicated_redis_password_;
  std::string shared_nats_monitor_, dedicated_nats_monitor_, shared_chroma_, dedicated_chroma_;
  fs::path shared_remote_;
};

TEST_F(DedicatedUpgrade, FreeToProfessionalMovesEverythingOffTheSharedTargets) {
  Add("free");
  RunSummary first = Run();
  ASSERT_EQ(first.tenants.size(), 1u);
  ASSERT_EQ(Tenant().status, S::kActive) << Tenant().last_error;
  ASSERT_TRUE(HasDatabase(shared_pg_));
  ASSERT_NE(TenantFiles(shared_remote_).find("query-engine"), std::string::npos)
      << TenantFiles(shared_remote_);
  ASSERT_NE(TenantFiles(shared_remote_).find("apply-compliance-policies"), std::string::npos)
      << TenantFiles(shared_remote_);
  ASSERT_EQ(AccountOf(Tenant()), shared_account_);
  ASSERT_GT(Containers(shared_account_), 0u);
  ASSERT_TRUE(HasCacheUser(shared_redis_, shared_redis_password_));
  ASSERT_EQ(Streams(shared_nats_monitor_, "audit-" + slug_), 1) << "step 45 made no audit stream";
  ASSERT_EQ(Streams(shared_nats_monitor_), 2);
  ASSERT_GE(ChromaObjects(shared_chroma_), 2) << "no database and collection on the shared Chroma";

  auto upgrade =
      TenantStore(*database_).Command(slug_, "test", [](const TenantRecord&) -> Result<TenantChange> {
        TenantChange c;
        c.status = S::kUpgrading;
        c.tier = "professional";
        c.bump_generation = true;
        c.audit.event = "operator.upgrade";
        return c;
      });
  ASSERT_TRUE(upgrade.ok()) << upgrade.status().ToString();
  RunSummary run = Run();
  ASSERT_EQ(run.tenants.size(), 1u);
  EXPECT_EQ(run.tenants[0].outcome, "upgraded") << run.tenants[0].error;
  TenantRecord t = Tenant();
  ASSERT_EQ(t.status, S::kActive) << t.last_error;

  // On its own targets ...
  EXPECT_TRUE(HasDatabase(dedicated_pg_));
  const std::string dedicated_files = TenantFiles(ClusterDir() / "flux-source.git");
  EXPECT_NE(dedicated_files.find("create-namespace"), std::string::npos) << dedicated_files;
  EXPECT_NE(dedicated_files.find("query-engine"), std::string::npos) << dedicated_files;
  EXPECT_NE(dedicated_files.find("apply-compliance-policies"), std::string::npos) << dedicated_files;
  // ... and nothing left on the shared ones (the server, the GitOps remote and working copy).
  EXPECT_FALSE(HasDatabase(shared_pg_)) << "database left on the shared PostgreSQL";
  EXPECT_EQ(TenantFiles(shared_remote_), "") << "objects left in the shared GitOps remote";
  EXPECT_EQ(TenantFiles(harness_.settings()["gitops.repository"]), "");
  const std::string account = AccountOf(t);
  EXPECT_NE(account, shared_account_);
  EXPECT_GT(Containers(account), 0u) << "no containers in the dedicated account " << account;
  EXPECT_EQ(Containers(shared_account_), 0u) << "containers left in the shared storage account";
  EXPECT_TRUE(HasCacheUser(dedicated_redis_, dedicated_redis_password_));
  EXPECT_FALSE(HasCacheUser(shared_redis_, shared_redis_password_)) << "ACL user left on the shared Redis";
  EXPECT_EQ(Streams(dedicated_nats_monitor_, "audit-" + slug_), 1) << "no audit stream on the dedicated NATS";
  EXPECT_EQ(Streams(shared_nats_monitor_, "audit-" + slug_), 0)
      << "audit stream (step 45) left on the shared NATS";
  EXPECT_EQ(Streams(dedicated_nats_monitor_), 2);
  EXPECT_EQ(Streams(shared_nats_monitor_), 0) << "stream left on the shared NATS";
  EXPECT_GE(ChromaObjects(dedicated_chroma_), 2) << "no database and collection on the dedicated Chroma";
  EXPECT_EQ(ChromaObjects(shared_chroma_), 0) << "database or collections left on the shared Chroma";
  auto steps = TenantStore(*database_).Steps(t.id);
  ASSERT_TRUE(steps.ok());
  for (const auto& s : *steps) {
    EXPECT_EQ(s.outputs.count(TierUpgrade::kLeftBehindKey), 0u) << s.name;
    EXPECT_EQ(s.outputs.count(TierUpgrade::kLeftBehindOutputsKey), 0u) << s.name;
    if (s.name == "provision-database" || s.name == "create-namespace" || s.name == "enable-audit-logging") {
      EXPECT_EQ(s.outputs.at(TierUpgrade::kPlacementKey), "dedicated:professional") << s.name;
    }
    if (s.name == "terraform-apply") {
      // The module's database_name names the database the data plugin made on the dedicated server.
      ASSERT_EQ(s.outputs.count("database_name"), 1u);
      EXPECT_EQ(s.outputs.at("database_name"), SqlName());
    }
    if (s.name == "register-dedicated-cluster") {
      EXPECT_EQ(s.outputs.at("placement"), "dedicated cluster aks-" + slug_ + " (eu-west)");
      EXPECT_EQ(s.outputs.at("target.data.dedicated.database_url"),
                "vault:targets/data.dedicated.database_url");
      EXPECT_EQ(s.outputs.at("target.data.dedicated.nats_url"), "vault:targets/data.dedicated.nats_url");
      EXPECT_EQ(s.outputs.at("target.vector.chroma_url"), dedicated_chroma_);
      std::string redis_password;
      std::getline(std::ifstream(dedicated_redis_password_), redis_password);
      ASSERT_FALSE(redis_password.empty());
      for (const auto& [k, v] : s.outputs) {
        EXPECT_EQ(v.find(dedicated_pg_), std::string::npos) << k;
        EXPECT_EQ(v.find(redis_password), std::string::npos) << k << ": the Redis password in an output";
      }
    }
  }

  // A second pass finds everything in sync on the new targets.
  RunOptions drift;
  drift.slug = slug_;
  drift.mode = ClaimMode::kDriftOnly;
  drift.drift_interval = Millis(0);
  ServiceDeps deps;
  deps.catalog = catalog_.get();
  deps.kinds = &StepHarness::Kinds();
  deps.secrets = &harness_.secrets();
  deps.options = &engine_;
  deps.run_id = NewUuid();
  deps.runner = "test-runner";
  auto again = BatchRun(*database_, deps, drift).Execute();
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->tenants.size(), 1u);
  EXPECT_EQ(again->tenants[0].outcome, "in_sync") << again->tenants[0].error;

  // Teardown: phases 4 and 2 on its own targets, then terraform destroy, then the state dropped.
  ASSERT_GT(StateRows(), 0);
  auto deleting =
      TenantStore(*database_).Command(slug_, "test", [](const TenantRecord&) -> Result<TenantChange> {
        TenantChange c;
        c.status = S::kPendingDeletion;
        c.deletion_grace = "0 seconds";
        c.audit.event = "operator.delete";
        return c;
      });
  ASSERT_TRUE(deleting.ok()) << deleting.status().ToString();
  RunSummary gone = Run();
  ASSERT_EQ(gone.tenants.size(), 1u);
  EXPECT_EQ(gone.tenants[0].outcome, "deleted") << gone.tenants[0].error;
  EXPECT_FALSE(HasDatabase(dedicated_pg_));
  EXPECT_EQ(Containers(account), 0u);
  EXPECT_FALSE(HasCacheUser(dedicated_redis_, dedicated_redis_password_));
  EXPECT_EQ(Streams(dedicated_nats_monitor_), 0);
  EXPECT_EQ(ChromaObjects(dedicated_chroma_), 0);
  EXPECT_FALSE(fs::exists(ClusterDir())) << "terraform destroy left the cluster folder";
  EXPECT_EQ(StateRows(), 0) << "the workspace's state was not dropped";
  EXPECT_FALSE(HasDatabase(shared_pg_));
}

}  // namespace
}  // namespace matih::testing
