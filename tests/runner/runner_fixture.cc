#include "runner/runner_fixture.h"

#include <fstream>
#include <pqxx/pqxx>
#include <random>
#include <sstream>

#include "secrets/secret_key.h"
#include "secrets/sodium_secret_store.h"
#include "store/migrator.h"

namespace matih::testing {

void RunnerFixture::SetUp() {
  db_ = TestDatabase::Create();
  database_ = std::make_unique<Database>(db_->url());
  auto applied = Migrator(*database_).Migrate();
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();

  std::random_device rd;
  state_dir_ = std::filesystem::temp_directory_path() / ("matih-runner-test-" + std::to_string(rd()));
  std::filesystem::create_directories(state_dir_);

  PluginHostOptions options;
  options.plugin_dirs = {std::string(MATIH_TEST_PLUGIN_DIR) + "/steps"};
  auto host = PluginHost::Load(options);
  ASSERT_TRUE(host.ok()) << host.status().ToString();
  plugins_ = std::move(*host);

  std::string hex;
  for (int i = 0; i < 32; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", static_cast<unsigned>(rd() & 0xff));
    hex += b;
  }
  auto key = SecretKey::FromHex(hex, "test");
  ASSERT_TRUE(key.ok());
  secrets_ = std::make_unique<SodiumSecretStore>(db_->url(), std::move(*key));

  engine_.settings["test.state_dir"] = state_dir_.string();
  engine_.tenant_backoff.initial_backoff = Millis(60'000);
  UseCatalog();
}

void RunnerFixture::TearDown() {
  secrets_.reset();
  std::error_code ec;
  std::filesystem::remove_all(state_dir_, ec);
}

void RunnerFixture::UseCatalog(const std::map<std::string, std::string>& params, const std::string& retry) {
  struct S {
    int number;
    const char* name;
    int phase;
    const char* tiers;
    const char* params;
  };
  const S steps[] = {
      {1, "alpha", 0, "[free, professional]", "{output: path}"},
      {2, "beta", 0, "[free, professional]", "{require_output: \"alpha:path\"}"},
      {3, "gamma", 1, "[free, professional]", "{}"},
      {4, "delta", 1, "[free, professional]", "{}"},
      {5, "cluster", 2, "[professional]", "{}"},
  };
  std::ostringstream y;
  y << "version: 1\nphases: {0: first, 1: second, 2: dedicated}\n"
    << "flows:\n  free: {placement: shared, phases: [0, 1]}\n"
    << "  professional: {placement: dedicated, phases: [0, 2, 1]}\n"
    << "defaults:\n  retry: "
    << (retry.empty() ? "{attempts: 3, initial_backoff: 10ms, max_backoff: 40ms}" : retry)
    << "\n  timeout: 10s\nsteps:\n";
  for (const S& s : steps) {
    auto it = params.find(s.name);
    y << "  - {number: " << s.number << ", name: " << s.name << ", phase: " << s.phase
      << ", kind: test.file, tiers: " << s.tiers
      << ", params: " << (it != params.end() ? it->second : s.params) << "}\n";
  }
  auto catalog = StepCatalog::LoadString(y.str(), "test catalog");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString() << "\n" << y.str();
  catalog_ = std::make_unique<StepCatalog>(std::move(*catalog));
  ASSERT_TRUE(catalog_->CheckKinds(*plugins_).ok());
}

TenantRecord RunnerFixture::Add(const std::string& slug, const std::string& tier,
                                const std::string& spec_json) {
  auto t = TenantStore(*database_).Add({slug, tier, "eastus", slug + "@example.com", spec_json}, "test");
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : TenantRecord{};
}

Result<RunSummary> RunnerFixture::Run(RunOptions options) {
  ServiceDeps deps;
  deps.catalog = catalog_.get();
  deps.kinds = plugins_.get();
  deps.secrets = secrets_.get();
  deps.metrics = &metrics_;
  deps.options = &engine_;
  deps.run_id = NewUuid();
  deps.runner = "test-runner:" + deps.run_id.substr(0, 8);
  BatchRun run(*database_, deps, options);
  return run.Execute();
}

RunSummary RunnerFixture::RunOk(RunOptions options) {
  auto s = Run(options);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : RunSummary{};
}

TenantRecord RunnerFixture::Tenant(const std::string& slug) {
  auto t = TenantStore(*database_).Get(slug);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : TenantRecord{};
}

std::map<std::string, StepRecord> RunnerFixture::Steps(const std::string& slug) {
  std::map<std::string, StepRecord> out;
  auto steps = TenantStore(*database_).Steps(Tenant(slug).id);
  EXPECT_TRUE(steps.ok());
  if (steps.ok())
    for (auto& s : *steps) out[s.name] = s;
  return out;
}

std::vector<AuditRow> RunnerFixture::Audit(const std::string& slug) {
  auto rows = AuditLog::History(*database_, Tenant(slug).id);
  EXPECT_TRUE(rows.ok());
  return rows.ok() ? *rows : std::vector<AuditRow>{};
}

int RunnerFixture::CountEvents(const std::string& slug, const std::string& event) {
  int n = 0;
  for (const auto& r : Audit(slug)) n += r.event.event == event;
  return n;
}

std::vector<std::string> RunnerFixture::Journal(const std::string& slug) {
  std::vector<std::string> lines;
  std::ifstream in(state_dir_ / slug / "journal");
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

int RunnerFixture::Calls(const std::string& slug, const std::string& step, const std::string& op) {
  std::ifstream in(state_dir_ / slug / (step + "." + op + ".calls"));
  int n = 0;
  in >> n;
  return n;
}

std::string RunnerFixture::Snapshot() {
  pqxx::connection c(db_->url());
  pqxx::nontransaction tx(c);
  std::string out;
  for (const char* sql :
       {"SELECT coalesce(string_agg(t::text, '|' ORDER BY id), '') FROM matih.tenants t",
        "SELECT coalesce(string_agg(s::text, '|' ORDER BY tenant_id, step_number), '') FROM "
        "matih.tenant_steps s",
        "SELECT coalesce(string_agg(a::text, '|' ORDER BY id), '') FROM matih.audit_events a",
        "SELECT coalesce(string_agg(s::text, '|' ORDER BY tenant_id, name), '') FROM matih.tenant_secrets s"})
    out += tx.exec(sql)[0][0].as<std::string>() + "\n";
  return out;
}

}  // namespace matih::testing
