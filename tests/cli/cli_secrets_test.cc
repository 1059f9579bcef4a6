// `matih-provisioner secrets rotate-key`, the real binary against a throwaway database: the
// secret store filled through the real SodiumSecretStore with the config's key, rotated to a new
// key file, then read back with the new key; a wrong old key is refused with exit 2 and nothing
// changes.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_fixture.h"
#include "secrets/secret_key.h"
#include "secrets/sodium_secret_store.h"

namespace matih::testing {
namespace {

namespace fs = std::filesystem;
const std::string kTenant = "5b1c9d2e-3333-4e5f-a6b7-c8d9e0f1a2b3";

class CliSecretsTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(Migrate());
    runner::SodiumSecretStore store(db_->url(), Key(key_file_));
    ASSERT_TRUE(store.Put(kTenant, "matih-data/postgres/password", "pg-password-value").ok());
    ASSERT_TRUE(store.Put(kTenant, "matih-vault/vault", "marker").ok());
  }
  static runner::SecretKey Key(const std::string& file) {
    auto key = runner::SecretKey::FromFile(file);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return std::move(key).value();
  }
  std::string KeyFile(const std::string& name, char fill) {
    std::string path = WriteFile(name, std::string(64, fill) + "\n");
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
    return path;
  }
  std::string Secrets() {
    return Query("SELECT string_agg(t::text, '|' ORDER BY name) FROM matih.tenant_secrets t") + "#" +
           Query("SELECT string_agg(d::text, '|') FROM matih.tenant_data_keys d");
  }
};

TEST_F(CliSecretsTest, RotatesToTheNewKeyAndTheStoreOpensWithIt) {
  const std::string new_key = KeyFile("new.key", 'c');
  const std::string values_before =
      Query("SELECT string_agg(encode(ciphertext, 'hex'), ',' ORDER BY name) FROM matih.tenant_secrets");
  CliResult r = Cli({"secrets", "rotate-key", "--new-key-file", new_key});
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_NE(std::string::npos, r.out.find("1 tenant data key(s) re-wrapped")) << r.out;
  EXPECT_NE(std::string::npos, r.out.find(Key(new_key).id())) << r.out;
  EXPECT_EQ(std::string::npos, r.out.find("pg-password-value"));
  EXPECT_EQ(
      values_before,
      Query("SELECT string_agg(encode(ciphertext, 'hex'), ',' ORDER BY name) FROM matih.tenant_secrets"));

  runner::SodiumSecretStore renewed(db_->url(), Key(new_key));
  EXPECT_EQ("pg-password-value", *renewed.Get(kTenant, "matih-data/postgres/password"));
  runner::SodiumSecretStore old(db_->url(), Key(key_file_));
  EXPECT_FALSE(old.Get(kTenant, "matih-data/postgres/password").ok());

  // The runner's own commands work with the new key file: rotating back from it needs it as the old key.
  CliResult back = Cli({"secrets", "rotate-key", "--old-key-file", new_key, "--new-key-file", key_file_});
  ASSERT_EQ(0, back.exit_code) << back.err;
  EXPECT_EQ("pg-password-value", *old.Get(kTenant, "matih-data/postgres/password"));
}

TEST_F(CliSecretsTest, WrongOldKeyExitsTwoAndChangesNothing) {
  const std::string before = Secrets();
  CliResult r = Cli({"secrets", "rotate-key", "--old-key-file", KeyFile("wrong.key", 'b'), "--new-key-file",
                     KeyFile("new.key", 'c')});
  EXPECT_EQ(2, r.exit_code) << r.out << r.err;
  EXPECT_NE(std::string::npos, r.err.find("not by the old key")) << r.err;
  EXPECT_EQ(before, Secrets());
}

TEST_F(CliSecretsTest, BadUsageExitsTwoAndChangesNothing) {
  const std::string before = Secrets();
  CliResult missing = Cli({"secrets", "rotate-key"});
  EXPECT_EQ(2, missing.exit_code);
  EXPECT_NE(std::string::npos, missing.err.find("new-key-file")) << missing.err;
  CliResult same = Cli({"secrets", "rotate-key", "--new-key-file", key_file_});
  EXPECT_EQ(2, same.exit_code);
  EXPECT_NE(std::string::npos, same.err.find("nothing to rotate")) << same.err;
  std::string open = WriteFile("open.key", std::string(64, 'd'));
  fs::permissions(open, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read,
                  fs::perm_options::replace);
  CliResult readable = Cli({"secrets", "rotate-key", "--new-key-file", open});
  EXPECT_EQ(2, readable.exit_code);
  EXPECT_NE(std::string::npos, readable.err.find("chmod 600")) << readable.err;
  CliResult absent = Cli({"secrets", "rotate-key", "--new-key-file", dir_ + "/absent.key"});
  EXPECT_EQ(2, absent.exit_code);
  EXPECT_EQ(before, Secrets());
  ClosedPort closed;
  CliResult down =
      Cli({"--database-url", "postgresql://postgres@127.0.0.1:" + std::to_string(closed.port()) + "/x",
           "secrets", "rotate-key", "--new-key-file", KeyFile("new.key", 'c')});
  EXPECT_EQ(4, down.exit_code) << down.err;
  CliResult help = Cli({"secrets", "rotate-key", "--help"});
  EXPECT_EQ(0, help.exit_code);
  EXPECT_NE(std::string::npos, help.out.find("--new-key-file")) << help.out;
  EXPECT_NE(std::string::npos, help.out.find("--old-key-file")) << help.out;
}

// The real runner with the built plugins: steps 16 and 17 provision a tenant (its data key, its
// vault entry, the ExternalSecrets in git); the master key is rotated; with the new key file the
// runner's plan finds every step in sync and a drift run changes nothing.
class CliVaultJourneyTest : public CliSecretsTest {
 protected:
  std::string WriteVaultSetup(const std::string& key_file) {
    const std::string catalog = WriteFile(
        "vault-catalog.yaml",
        "version: 1\n"
        "phases: {0: validation, 1: control-plane, 3: data-layer, 8: finalization}\n"
        "flows:\n"
        "  free:         {placement: shared,    phases: [0, 1, 3, 8]}\n"
        "  starter:      {placement: shared,    phases: [0, 1, 3, 8]}\n"
        "  professional: {placement: shared,    phases: [0, 1, 3, 8]}\n"
        "  enterprise:   {placement: shared,    phases: [0, 1, 3, 8]}\n"
        "defaults:\n"
        "  retry: {attempts: 1, initial_backoff: 10ms, max_backoff: 10ms}\n"
        "  timeout: 10s\n"
        "steps:\n"
        "  - {number: 1, name: validate-request, phase: 0, kind: test.file, tiers: [free], params: {value: "
        "ok}}\n"
        "  - {number: 2, name: create-tenant-record, phase: 1, kind: test.file, tiers: [free], params: "
        "{value: ok}}\n"
        "  - {number: 16, name: create-key-vault, phase: 3, kind: vault.vault, tiers: [free]}\n"
        "  - {number: 17, name: store-tenant-secrets, phase: 3, kind: vault.tenant_secrets, tiers: [free],\n"
        "     params: {secrets: [{name: tenant-database, entries: [{key: password, from: matih-data, secret: "
        "postgres/password}]}]}}\n"
        "  - {number: 56, name: activate-tenant, phase: 8, kind: test.file, tiers: [free], params: {value: "
        "ok}}\n");
    return WriteFile(
        "vault.conf",
        "[database]\nurl = " + db_->url() + "\n\n[plugins]\ndir = " + std::string(MATIH_TEST_PLUGIN_DIR) +
            "/steps\ndir = " + MATIH_PLUGIN_DIR + "\n\n[catalog]\nfile = " + catalog +
            "\n\n[secrets]\nkey_file = " + key_file + "\n\n[targets]\ntest.state_dir = " + state_dir_ +
            "\nkubernetes.delivery = gitops\ngitops.repository = " + dir_ +
            "/gitops\ngitops.branch = main\n");
  }
  CliResult With(const std::string& config, std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", config});
    return Raw(args);
  }
  // slug -> step name -> state, from plan --format json.
  std::map<std::string, std::string> PlanStates(const std::string& config, const std::string& slug) {
    CliResult r = With(config, {"plan", slug, "--format", "json"});
    EXPECT_EQ(0, r.exit_code) << r.err;
    std::map<std::string, std::string> states;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded()) return states;
    for (const auto& s : j["tenants"][0]["steps"]) states[s["name"]] = s["state"];
    return states;
  }
};

TEST_F(CliVaultJourneyTest, StepsSixteenAndSeventeenProvisionAndStayInSyncAcrossAKeyRotation) {
  const std::string config = WriteVaultSetup(key_file_);
  CliResult add = With(config, {"tenants", "add", "--slug", "vaulted", "--tier", "free", "--admin-email",
                                "admin@vaulted.example"});
  ASSERT_EQ(0, add.exit_code) << add.err;
  const std::string tenant_id = Query("SELECT id FROM matih.tenants WHERE slug = 'vaulted'");
  {
    runner::SodiumSecretStore store(db_->url(), Key(key_file_));
    ASSERT_TRUE(store.Put(tenant_id, "matih-data/postgres/password", "journey-pg-password").ok());
  }
  CliResult run = With(config, {"run"});
  ASSERT_EQ(0, run.exit_code) << run.out << run.err;
  EXPECT_EQ("ACTIVE", TenantStatus("vaulted"));
  EXPECT_EQ("1", Query("SELECT count(*) FROM matih.tenant_data_keys WHERE tenant_id = '" + tenant_id + "'"));
  EXPECT_EQ("2", Query("SELECT count(*) FROM matih.tenant_secrets WHERE tenant_id = '" + tenant_id +
                       "' AND name LIKE 'matih-vault/%'"));
  EXPECT_TRUE(fs::exists(dir_ + "/gitops/tenants/vaulted/store-tenant-secrets.yaml"));
  auto before = PlanStates(config, "vaulted");
  EXPECT_EQ("in_sync", before["create-key-vault"]);
  EXPECT_EQ("in_sync", before["store-tenant-secrets"]);

  const std::string new_key = KeyFile("rotated.key", 'e');
  CliResult rotate = With(config, {"secrets", "rotate-key", "--new-key-file", new_key});
  ASSERT_EQ(0, rotate.exit_code) << rotate.err;
  // The old key now opens nothing: the steps fail, they never see "absent" and reissue.
  auto stale = PlanStates(config, "vaulted");
  EXPECT_EQ("error", stale["create-key-vault"]);
  EXPECT_EQ("error", stale["store-tenant-secrets"]);

  const std::string rotated = WriteVaultSetup(new_key);
  auto after = PlanStates(rotated, "vaulted");
  EXPECT_EQ("in_sync", after["create-key-vault"]);
  EXPECT_EQ("in_sync", after["store-tenant-secrets"]);
  const std::string secrets_before = Secrets();
  CliResult drift = With(rotated, {"run", "--tenant", "vaulted"});
  ASSERT_EQ(0, drift.exit_code) << drift.out << drift.err;
  EXPECT_EQ(secrets_before, Secrets()) << "an in-sync tenant's drift run writes nothing";
  EXPECT_EQ(std::string::npos, (run.out + run.err + drift.out + drift.err).find("journey-pg-password"));
}

}  // namespace
}  // namespace matih::testing
