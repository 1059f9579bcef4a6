// The secrets scan (issue 16): provisions one tenant of each tier (free, professional,
// enterprise) with the real matih-provisioner binary and every built plugin on the real stack,
// configured as scripts/demo configures it (own database, key, GitOps repository and remote),
// then deletes them again; collects every secret value the stores hold (the runner's encrypted
// store, decrypted with the test's key; the stack's own credentials) and searches for each in
// every place an operator or an attacker with read access sees: every log line of every command
// (JSON logs, debug level), `tenants show --format json` (the step outputs), `plan --all`,
// `history`, `status`, every row of the runner's database except the encrypted store itself
// (audit trail, steps, runs), every object of the GitOps remote (every blob of every commit),
// and the stack servers' logs under var/. 0 hits required. The scanner is proven able to fail
// by planting a real secret into a copy of the real places. The figures go to
// var/chaos/secrets/scan.json.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <random>
#include <sstream>

#include "chaos/secrets_scan_scanner.h"
#include "cli/cli_runner.h"
#include "secrets/secret_key.h"
#include "secrets/sodium_secret_store.h"
#include "support/stack_env.h"
#include "support/test_database.h"

namespace matih::testing {
namespace {

namespace fs = std::filesystem;

std::string RandomHex(size_t n) {
  static std::mt19937_64 rng(std::random_device{}());
  const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) out += digits[rng() % 16];
  return out;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Runs a shell command, returning its stdout (stderr goes to the test's log).
std::string Shell(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buf[65536];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  ::pclose(p);
  return out;
}

// --- the scanner on its own ------------------------------------------------------------------

TEST(SecretScanner, FindsAValueRawBase64AndPercentEncodedAndNamesThePlace) {
  SecretScanner scanner;
  scanner.AddSecret("tenant a: redis/password", "s3cr3t-Value/with+chars");
  scanner.AddSecret("tenant a: api key", "mtk_0123456789abcdef");
  scanner.AddSecret("too short", "abc");
  scanner.AddPlace("log", "line 1\n{\"msg\":\"connected with s3cr3t-Value/with+chars\"}\n");
  scanner.AddPlace(
      "git blob",
      "data:\n  key: " + SecretScanner::Base64("xx" + std::string("mtk_0123456789abcdef") + "!", false));
  scanner.AddPlace("url", "redis://u:" + SecretScanner::PercentEncode("s3cr3t-Value/with+chars") + "@host");
  scanner.AddPlace("clean", "nothing here but mtk_0123 and s3cr3t");
  const auto hits = scanner.Scan();
  EXPECT_EQ(1u, scanner.skipped());
  EXPECT_EQ(2u, scanner.secrets());
  std::multiset<std::string> found;
  for (const auto& h : hits) found.insert(h.secret + "@" + h.place + "/" + h.encoding);
  EXPECT_EQ(
      (std::multiset<std::string>{"tenant a: redis/password@log/raw", "tenant a: redis/password@url/percent",
                                  "tenant a: api key@git blob/base64"}),
      found);
}

TEST(SecretScanner, CleanPlacesGiveNoHit) {
  SecretScanner scanner;
  scanner.AddSecret("x", "correct-horse-battery-staple");
  scanner.AddPlace("a", "correct-horse battery-staple");
  scanner.AddPlace("b", SecretScanner::Base64("correct-horse-battery", false));
  EXPECT_TRUE(scanner.Scan().empty());
}

// --- the scan of a provisioned stack ---------------------------------------------------------

class SecretsScan : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = TestDatabase::Create();
    dir_ = fs::temp_directory_path() / ("matih-secrets-scan-" + RandomHex(10));
    fs::create_directories(dir_);
    key_hex_ = RandomHex(64);
    WriteSecretFile("secret.key", key_hex_);
    hash_key_ = RandomHex(64);
    WriteSecretFile("controlplane-hash.key", hash_key_);
    ASSERT_EQ(0, std::system(("git init -q --bare '" + (dir_ / "gitops-remote.git").string() + "'").c_str()));
    WriteConfig();
    const std::string suffix = RandomHex(6);
    tenants_ = {{"ss-free-" + suffix, "free"},
                {"ss-pro-" + suffix, "professional"},
                {"ss-ent-" + suffix, "enterprise"}};
  }
  void TearDown() override {
    if (!::testing::Test::HasFailure())
      fs::remove_all(dir_);
    else
      std::cerr << "secrets scan: kept " << dir_ << " for a look\n";
  }

  void WriteSecretFile(const std::string& name, const std::string& value) {
    std::ofstream(dir_ / name) << value << "\n";
    fs::permissions(dir_ / name, fs::perms::owner_read | fs::perms::owner_write);
  }
  static std::string Env(const std::string& key) { return StackEnv::Require(key); }
  static std::string EnvOr(const std::string& key) { return StackEnv::Get(key).value_or(""); }

  void WriteConfig() {
    const std::string src = MATIH_SOURCE_DIR, d = dir_.string();
    const nlohmann::json sp = nlohmann::json::parse(ReadFile(Env("MATIH_OIDC_SERVICE_PRINCIPAL_FILE")));
    oidc_token_ = Trimmed(ReadFile(Env("MATIH_OIDC_INITIAL_ACCESS_TOKEN_FILE")));
    sp_secret_ = sp["client_secret"].get<std::string>();
    std::ostringstream c;
    c << "[database]\nurl = " << db_->url() << "\n\n[plugins]\ndir = " << MATIH_PLUGIN_DIR
      << "\n\n[catalog]\nfile = " << src << "/config/catalog.yaml\n\n[secrets]\nkey_file = " << d
      << "/secret.key\n\n[tenants]\nregions = eu-west,us-east\ndefault_region = eu-west\n\n[log]\nformat = "
         "json\nlevel = debug\n\n"
      << "[targets]\n"
      << "tenant.service_catalog = " << src << "/config/service-catalog.yaml\n"
      << "controlplane.database_url = " << db_->url() << "\n"
      << "controlplane.hash_key_file = " << d << "/controlplane-hash.key\n"
      << "templates.dir = " << src << "/config/templates\n"
      << "kubernetes.delivery = gitops\n"
      << "gitops.repository = " << d << "/gitops\n"
      << "gitops.branch = main\n"
      << "gitops.remote = " << d << "/gitops-remote.git\n"
      << "storage.blob_endpoint = " << Env("MATIH_AZURITE_BLOB_ENDPOINT") << "\n"
      << "storage.account_keys_file = " << Env("MATIH_AZURITE_ACCOUNTS_FILE") << "\n"
      << "storage.shared_account = " << Env("MATIH_AZURITE_SHARED_ACCOUNT") << "\n"
      << "storage.dedicated_accounts = " << Env("MATIH_AZURITE_POOL_ACCOUNTS") << "\n"
      << "storage.database_url = " << db_->url() << "\n"
      << "vector.chroma_url = " << EnvOr("MATIH_CHROMA_URL") << "\n"
      << "identity.issuer_url = " << Env("MATIH_OIDC_URL") << "\n"
      << "identity.initial_access_token = " << oidc_token_ << "\n"
      << "identity.parent_zone = " << Env("MATIH_PARENT_ZONE") << "\n"
      << "identity.cluster_issuer_url = https://kubernetes.default.svc.cluster.local\n"
      << "identity.azure_subscription_id = 00000000-0000-0000-0000-000000000000\n"
      << "identity.service_principal_id = " << sp["client_id"].get<std::string>() << "\n"
      << "identity.service_principal_secret = " << sp_secret_ << "\n";
    for (const char* tier_class : {"shared", "dedicated"})
      c << "data." << tier_class << ".database_url = " << Env("MATIH_PG_ADMIN_URL") << "\n"
        << "data." << tier_class << ".redis_url = " << Env("MATIH_REDIS_URL") << "\n"
        << "data." << tier_class << ".redis_password_file = " << Env("MATIH_REDIS_PASSWORD_FILE") << "\n"
        << "data." << tier_class << ".nats_url = " << Env("MATIH_NATS_URL") << "\n";
    c << "network.powerdns_api_url = " << Env("MATIH_POWERDNS_API_URL") << "\n"
      << "network.powerdns_api_key = " << Env("MATIH_POWERDNS_API_KEY") << "\n"
      << "network.dns_server = " << Env("MATIH_POWERDNS_DNS") << "\n"
      << "network.ingress_address = 127.0.0.1\n"
      << "network.nginx_prefix = " << Env("MATIH_NGINX_PREFIX") << "\n"
      << "network.nginx_http_port = " << Env("MATIH_NGINX_HTTP_PORT") << "\n"
      << "network.nginx_https_port = " << Env("MATIH_NGINX_HTTPS_PORT") << "\n"
      << "network.ca_cert_file = " << Env("MATIH_CA_CERT") << "\n"
      << "network.ca_key_file = " << Env("MATIH_CA_KEY") << "\n"
      << "network.certs_dir = " << d << "/certs\n"
      << "billing.database_url = " << db_->url() << "\n"
      << "notify.database_url = " << db_->url() << "\n"
      << "notify.smtp_url = " << Env("MATIH_SMTP_URL") << "\n"
      << "notify.from = MATIH <welcome@matih.example>\n"
      << "notify.invite_url = https://app.matih.example/invite\n"
      << "notify.mailbox_api_url = " << Env("MATIH_MAILDEV_URL") << "\n"
      << "observability.prometheus_url = " << Env("MATIH_PROMETHEUS_URL") << "\n"
      << "observability.targets_dir = " << Env("MATIH_PROMETHEUS_TARGETS_DIR") << "\n"
      << "observability.rules_dir = " << Env("MATIH_PROMETHEUS_RULES_DIR") << "\n"
      << "terraform.database_url = " << db_->url() << "?sslmode=disable\n"
      << "terraform.modules_dir = " << src << "/config/terraform/local\n"
      << "terraform.work_dir = " << d << "/terraform\n"
      << "services.values_schema_dir = " << src << "/config/services\n"
      << "services.parent_zone = " << Env("MATIH_PARENT_ZONE") << "\n"
      << "terraform.dedicated_database_url = " << EnvOr("MATIH_PG_DEDICATED_ADMIN_URL") << "\n"
      << "terraform.dedicated_redis_url = " << EnvOr("MATIH_REDIS_DEDICATED_URL") << "\n"
      << "terraform.dedicated_redis_password_file = " << EnvOr("MATIH_REDIS_DEDICATED_PASSWORD_FILE") << "\n"
      << "vault.backend = builtin\nvault.secret_store_kind = ClusterSecretStore\nvault.secret_store_name = "
         "matih-vault\n";
    config_ = (dir_ / "runner.conf").string();
    std::ofstream(config_) << c.str();
  }

  // Runs the binary with the test's config; every output is kept for the scan.
  CliResult Cli(const std::vector<std::string>& args,
                std::chrono::seconds timeout = std::chrono::seconds(60)) {
    std::vector<std::string> full = {"--config", config_};
    full.insert(full.end(), args.begin(), args.end());
    CliEnv env = {{"HOME", dir_.string()},
                  {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}};
    if (auto tf = StackEnv::Get("MATIH_TERRAFORM_BIN")) env["MATIH_TERRAFORM_BIN"] = *tf;
    CliResult r = cli_.Run(full, env, dir_.string(), timeout);
    std::string label = "`matih-provisioner";
    for (const auto& a : args) label += " " + a;
    outputs_.emplace_back(label + "` stdout", r.out);
    outputs_.emplace_back(label + "` stderr", r.err);
    // Kept with the test's folder when the test fails, for a look.
    fs::create_directories(dir_ / "outputs");
    std::ofstream(dir_ / "outputs" / (std::to_string(outputs_.size() / 2) + "-" + args[0] + ".txt"))
        << label << "\nexit " << r.exit_code << "\n--- stdout ---\n"
        << r.out << "\n--- stderr ---\n"
        << r.err;
    return r;
  }

  // Tenants not yet ACTIVE, as "slug STATUS" lines.
  std::string Unfinished() {
    auto r = Cli({"tenants", "list", "--format", "json"});
    std::string left;
    auto rows = nlohmann::json::parse(r.out, nullptr, false);
    if (rows.is_discarded()) return "tenants list: " + r.err;
    for (const auto& [slug, tier] : tenants_) {
      std::string status = "MISSING";
      for (const auto& row : rows)
        if (row.value("slug", "") == slug) status = row.value("status", "");
      if (status != "ACTIVE") left += slug + " " + status + "\n";
    }
    return left;
  }

  std::unique_ptr<TestDatabase> db_;
  fs::path dir_;
  std::string config_, key_hex_, hash_key_, oidc_token_, sp_secret_;
  std::vector<std::pair<std::string, std::string>> tenants_;  // slug, tier
  std::vector<std::pair<std::string, std::string>> outputs_;  // label, text
  std::vector<std::string> tenant_secret_values_;
  CliRunner cli_{MATIH_PROVISIONER_BIN};
};

TEST_F(SecretsScan, NoSecretOfThreeProvisionedTiersAppearsAnywhere) {
  auto migrated = Cli({"migrate"});
  ASSERT_EQ(0, migrated.exit_code) << Describe(migrated);
  for (const auto& [slug, tier] : tenants_) {
    const fs::path spec = dir_ / (slug + ".spec.json");
    // As scripts/demo's specs: a few services; ENTERPRISE quotas come from the spec.
    std::ofstream(spec) << R"({"display_name": "Scan )" << tier
                        << R"(", "services": ["query-engine", "catalog-service", "bi-service", "ai-service"])"
                        << (tier == "enterprise" ? R"(, "quotas": {"cpu_requests": "32", "cpu_limits": "64",
                               "memory_requests": "64Gi", "memory_limits": "128Gi", "pvcs": 100, "services": 200})"
                                                 : "")
                        << "}";
    auto added = Cli({"tenants", "add", "--slug", slug, "--tier", tier, "--admin-email",
                      "admin@" + slug + ".example.com", "--region", "eu-west", "--spec", spec.string()});
    ASSERT_EQ(0, added.exit_code) << Describe(added);
  }
  std::string left;
  for (int pass = 0; pass < 6; ++pass) {
    auto run = Cli({"run"}, std::chrono::seconds(240));
    ASSERT_TRUE(run.exit_code == 0 || run.exit_code == 3) << Describe(run);
    left = Unfinished();
    if (left.empty()) break;
  }
  EXPECT_EQ("", left) << "every tenant ACTIVE before the scan";

  // What the tenants' data looks like to an operator.
  for (const auto& [slug, tier] : tenants_) {
    EXPECT_EQ(0, Cli({"tenants", "show", slug, "--format", "json"}).exit_code);
    Cli({"history", slug});
  }
  EXPECT_EQ(0, Cli({"plan", "--all"}).exit_code);
  Cli({"status", "--format", "json"});
  Cli({"audit", "verify"});

  // The secrets, read before teardown removes them: the runner's store, decrypted.
  SecretScanner scanner;
  {
    auto key = runner::SecretKey::FromHex(key_hex_, "test");
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    runner::SodiumSecretStore store(db_->url(), std::move(key).value());
    pqxx::connection c(db_->url());
    pqxx::nontransaction tx(c);
    for (const auto& row : tx.exec("SELECT tenant_id, name FROM matih.tenant_secrets ORDER BY 1, 2")) {
      const std::string tenant = row[0].as<std::string>(), name = row[1].as<std::string>();
      auto value = store.Get(tenant, name);
      ASSERT_TRUE(value.ok()) << tenant << " " << name << ": " << value.status().ToString();
      scanner.AddSecret("tenant " + tenant + ": " + name, value.value());
      tenant_secret_values_.push_back(value.value());
    }
  }
  EXPECT_GE(scanner.secrets(), 3u * 3u) << "the tenants' stores hold their generated credentials";
  // The stack's and the runner's own credentials.
  scanner.AddSecret("runner master key", key_hex_);
  scanner.AddSecret("control-plane hash key", hash_key_);
  scanner.AddSecret("OIDC initial access token", oidc_token_);
  scanner.AddSecret("service principal secret", sp_secret_);
  scanner.AddSecret("PowerDNS API key", Env("MATIH_POWERDNS_API_KEY"));
  scanner.AddSecret("Redis admin password", Trimmed(ReadFile(Env("MATIH_REDIS_PASSWORD_FILE"))));
  {
    std::stringstream entries(ReadFile(Env("MATIH_AZURITE_ACCOUNTS_FILE")));
    for (std::string entry; std::getline(entries, entry, ';');) {
      entry = Trimmed(entry);
      if (auto colon = entry.find(':'); colon != std::string::npos)
        scanner.AddSecret("Azurite key of " + entry.substr(0, colon), entry.substr(colon + 1));
    }
  }

  // Teardown: its logs are searched too.
  for (const auto& [slug, tier] : tenants_) Cli({"delete", slug, "--grace", "0s"});
  for (int pass = 0; pass < 3; ++pass) Cli({"run"}, std::chrono::seconds(240));
  {
    auto list = Cli({"tenants", "list", "--format", "json"});
    auto rows = nlohmann::json::parse(list.out, nullptr, false);
    ASSERT_FALSE(rows.is_discarded()) << Describe(list);
    for (const auto& row : rows) EXPECT_EQ("DELETED", row.value("status", "")) << row.dump();
  }

  // The places.
  for (const auto& [label, text] : outputs_) scanner.AddPlace(label, text);
  {
    pqxx::connection c(db_->url());
    pqxx::nontransaction tx(c);
    for (const auto& t :
         tx.exec("SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname NOT IN "
                 "('pg_catalog', 'information_schema') ORDER BY 1")) {
      const std::string table = t[0].as<std::string>();
      if (table == "matih.tenant_secrets" || table == "matih.tenant_data_keys") continue;  // the store itself
      std::string rows;
      for (const auto& r : tx.exec("SELECT row_to_json(x)::text FROM " + table + " x"))
        rows += r[0].c_str() + std::string("\n");
      scanner.AddPlace("database table " + table, rows);
    }
  }
  const std::string remote = (dir_ / "gitops-remote.git").string();
  const std::string objects =
      Shell("git -C '" + remote + "' cat-file --batch-all-objects --batch 2>/dev/null");
  EXPECT_NE(std::string::npos, objects.find(" commit ")) << "the GitOps remote received commits";
  scanner.AddPlace("GitOps remote, every object", objects);
  scanner.AddPlace("GitOps remote, every commit's patch",
                   Shell("git -C '" + remote + "' log --all -p --format=%H%n%B 2>/dev/null"));
  size_t server_logs = 0;
  const fs::path var = fs::path(Env("MATIH_STACK_ROOT")) / "var";
  for (const auto& entry :
       fs::recursive_directory_iterator(var, fs::directory_options::skip_permission_denied)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    const bool is_log = name == "log" || entry.path().extension() == ".log";
    if (!is_log || entry.path().string().find("/node_modules/") != std::string::npos) continue;
    scanner.AddPlace("server log " + entry.path().string(), ReadFile(entry.path()));
    ++server_logs;
  }
  EXPECT_GT(server_logs, 5u) << "the stack's server logs under " << var;

  const auto hits = scanner.Scan();
  std::cout << "secrets scan: " << scanner.secrets() << " secrets (" << scanner.skipped() << " shorter than "
            << SecretScanner::kMinLength << " not searched) in " << scanner.places() << " places ("
            << server_logs << " server logs, " << outputs_.size() << " command outputs), " << scanner.bytes()
            << " bytes: " << hits.size() << " hits\n";
  {
    // The figures, for scripts/chaos (not in var/chaos/*.json: that is the table of runs).
    const fs::path out = fs::path(MATIH_SOURCE_DIR) / "var" / "chaos" / "secrets" / "scan.json";
    fs::create_directories(out.parent_path());
    std::ofstream(out)
        << nlohmann::json{{"scenario", "secrets-scan"},         {"secrets", scanner.secrets()},
                          {"skipped_short", scanner.skipped()}, {"places", scanner.places()},
                          {"server_logs", server_logs},         {"command_outputs", outputs_.size()},
                          {"bytes", scanner.bytes()},           {"hits", hits.size()}}
               .dump()
        << "\n";
  }
  for (const auto& h : hits)
    ADD_FAILURE() << "secret '" << h.secret << "' found (" << h.encoding << ") in " << h.place;
  EXPECT_EQ(0u, hits.size());

  // The scan can fail: one real secret planted into a copy of a real place is found.
  ASSERT_FALSE(tenant_secret_values_.empty());
  SecretScanner planted = scanner;
  planted.AddPlace("planted log line", outputs_.back().second + "\n{\"level\":\"debug\",\"msg\":\"password=" +
                                           tenant_secret_values_.front() + "\"}\n");
  EXPECT_EQ(hits.size() + 1, planted.Scan().size()) << "the planted secret is found";
}

}  // namespace
}  // namespace matih::testing
