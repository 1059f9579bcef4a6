#include "cli_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>

namespace matih::testing {
namespace fs = std::filesystem;

void CliTest::SetUp() {
  if (NeedsDatabase()) db_ = TestDatabase::Create();
  std::string templ = (fs::temp_directory_path() / "matih-cli-XXXXXX").string();
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  dir_ = templ;
  state_dir_ = dir_ + "/state";
  fs::create_directories(state_dir_);
  key_file_ = WriteFile("secret.key", std::string(64, 'a') + "\n");
  fs::permissions(key_file_, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  catalog_ = WriteCatalog();
  config_ = WriteConfig();
}

namespace {

struct SharedSeed {
  std::shared_ptr<TestDatabase> db;
  std::string dir, catalog, config, key_file, state_dir, snapshot;
};
std::unique_ptr<SharedSeed> g_seed;

}  // namespace

void CliTest::ShareSeed(const std::function<void()>& seed, bool check_unchanged) {
  if (g_seed) {
    db_ = g_seed->db;
    dir_ = g_seed->dir;
    catalog_ = g_seed->catalog;
    config_ = g_seed->config;
    key_file_ = g_seed->key_file;
    state_dir_ = g_seed->state_dir;
    owns_dir_ = false;
    if (check_unchanged) {
      ASSERT_EQ(Snapshot(), g_seed->snapshot) << "an earlier test changed the shared database";
    }
    return;
  }
  CliTest::SetUp();
  owns_dir_ = false;
  seed();
  if (::testing::Test::HasFatalFailure()) return;
  g_seed.reset(new SharedSeed{db_, dir_, catalog_, config_, key_file_, state_dir_, Snapshot()});
}

void CliTest::TearDownTestSuite() {
  if (!g_seed) return;
  std::error_code ec;
  fs::remove_all(g_seed->dir, ec);
  g_seed.reset();
}

void CliTest::TearDown() {
  std::error_code ec;
  if (owns_dir_ && !dir_.empty()) fs::remove_all(dir_, ec);
  db_.reset();
}

std::string CliTest::WriteFile(const std::string& name, const std::string& content) {
  std::string path = dir_ + "/" + name;
  std::ofstream(path, std::ios::trunc) << content;
  return path;
}

std::string CliTest::WriteCatalog(const std::map<int, std::string>& params, const std::string& name) {
  struct Step {
    int number;
    const char* name;
    int phase;
    const char* tiers;
  };
  const Step steps[] = {
      {1, "validate-request", 0, "[free, starter, professional, enterprise]"},
      {2, "create-tenant-record", 1, "[free, starter, professional, enterprise]"},
      {3, "terraform-apply", 7, "[professional, enterprise]"},
      {4, "activate-tenant", 8, "[free, starter, professional, enterprise]"},
  };
  std::string yaml =
      "version: 1\n"
      "phases: {0: validation, 1: control-plane, 7: cloud-infrastructure, 8: finalization}\n"
      "flows:\n"
      "  free:         {placement: shared,    phases: [0, 1, 8]}\n"
      "  starter:      {placement: shared,    phases: [0, 1, 8]}\n"
      "  professional: {placement: dedicated, phases: [0, 1, 7, 8]}\n"
      "  enterprise:   {placement: dedicated, phases: [0, 1, 7, 8]}\n"
      "defaults:\n"
      "  retry: {attempts: 1, initial_backoff: 10ms, max_backoff: 10ms}\n"
      "  timeout: 10s\n"
      "steps:\n";
  for (const auto& s : steps) {
    auto p = params.find(s.number);
    yaml += "  - {number: " + std::to_string(s.number) + ", name: " + s.name +
            ", phase: " + std::to_string(s.phase) + ", kind: test.file, tiers: " + s.tiers +
            ", params: " + (p == params.end() ? "{value: ok}" : p->second) + "}\n";
  }
  return WriteFile(name, yaml);
}

std::string CliTest::WriteConfig(const std::string& extra, const std::string& name) {
  std::string text = (db_ ? "[database]\nurl = " + db_->url() + "\n\n" : std::string()) +
                     "[plugins]\ndir = " + std::string(MATIH_TEST_PLUGIN_DIR) +
                     "/steps\n\n[catalog]\nfile = " + catalog_ + "\n\n[secrets]\nkey_file = " + key_file_ +
                     "\n\n[targets]\ntest.state_dir = " + state_dir_ + "\n" + extra;
  return WriteFile(name, text);
}

void CliTest::UseRealStep1Only() {
  catalog_ = WriteFile("catalog.yaml",
                       "version: 1\n"
                       "phases: {0: validation}\n"
                       "flows:\n"
                       "  free:         {placement: shared,    phases: [0]}\n"
                       "  starter:      {placement: shared,    phases: [0]}\n"
                       "  professional: {placement: dedicated, phases: [0]}\n"
                       "  enterprise:   {placement: dedicated, phases: [0]}\n"
                       "steps:\n"
                       "  - {number: 1, name: validate-request, phase: 0, kind: tenant.validate,\n"
                       "     tiers: [free, starter, professional, enterprise]}\n");
  config_ =
      WriteFile("runner.conf",
                "[database]\nurl = " + db_->url() + "\n\n[plugins]\ndir = " + std::string(MATIH_PLUGIN_DIR) +
                    "\n\n[catalog]\nfile = " + catalog_ + "\n\n[secrets]\nkey_file = " + key_file_ +
                    "\n\n[targets]\ntenant.service_catalog = " + std::string(MATIH_SOURCE_DIR) +
                    "/config/service-catalog.yaml\n");
}

CliResult CliTest::Cli(const std::vector<std::string>& args, const CliEnv& env) const {
  std::vector<std::string> all{"--config", config_};
  all.insert(all.end(), args.begin(), args.end());
  return cli_.Run(all, env, dir_);
}

CliResult CliTest::Raw(const std::vector<std::string>& args, const CliEnv& env) const {
  return cli_.Run(args, env, dir_);
}

void CliTest::Migrate() {
  CliResult r = Cli({"migrate"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
}

void CliTest::AddTenant(const std::string& slug, const std::string& tier) {
  CliResult r =
      Cli({"tenants", "add", "--slug", slug, "--tier", tier, "--admin-email", "admin@" + slug + ".example"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
}

void CliTest::AddActiveTenant(const std::string& slug, const std::string& tier) {
  ASSERT_NO_FATAL_FAILURE(AddTenant(slug, tier));
  CliResult r = Cli({"run", "--tenant", slug});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  ASSERT_EQ(TenantStatus(slug), "ACTIVE");
}

std::string CliTest::Query(const std::string& sql) const {
  pqxx::connection c(db_->url());
  pqxx::nontransaction tx(c);
  auto r = tx.exec1(sql);
  return r[0].is_null() ? std::string() : r[0].as<std::string>();
}

std::string CliTest::TenantStatus(const std::string& slug) const {
  pqxx::connection c(db_->url());
  pqxx::nontransaction tx(c);
  auto r = tx.exec_params("SELECT status FROM matih.tenants WHERE slug = $1", slug);
  return r.empty() ? std::string("(no tenant)") : r[0][0].as<std::string>();
}

std::string CliTest::Snapshot() const {
  pqxx::connection c(db_->url());
  pqxx::nontransaction tx(c);
  std::string out;
  for (const char* table : {"tenants", "tenant_steps", "audit_events", "runs", "tenant_secrets"}) {
    auto r = tx.exec1(
        std::string("SELECT count(*)::text || E'\\n' || coalesce(string_agg(t::text, E'\\n' ORDER BY "
                    "t::text), '') FROM matih.") +
        table + " t");
    out += std::string("== ") + table + " ";
    out += r[0].as<std::string>();
    out += "\n";
  }
  return out;
}

ClosedPort::ClosedPort() {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ADD_FAILURE() << "cannot bind a port on 127.0.0.1";
    return;
  }
  socklen_t len = sizeof addr;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
}

ClosedPort::~ClosedPort() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace matih::testing
