// `matih-provisioner secrets rotate-key`, the real binary against a throwaway database: the
// secret store filled through the real SodiumSecretStore with the config's key, rotated to a new
// key file, then read back with the new key; a wrong old key is refused with exit 2 and nothing
// changes.
#include <gtest/gtest.h>

#include <filesystem>
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
  CliResult help = Cli({"secrets", "rotate-key", "--help"});
  EXPECT_EQ(0, help.exit_code);
  EXPECT_NE(std::string::npos, help.out.find("--new-key-file")) << help.out;
  EXPECT_NE(std::string::npos, help.out.find("--old-key-file")) << help.out;
}

}  // namespace
}  // namespace matih::testing
