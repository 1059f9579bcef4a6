// Steps 16 (create-key-vault) and 17 (store-tenant-secrets), plugins/vault: the tenant's vault in
// the runner's envelope-encrypted secret store (its data key checked in the real tables) or in
// Azure Key Vault (a fake: no Azure here), and the ExternalSecret objects in a real git repository.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>

#include "fakes/fake_azure_key_vault_server.h"
#include "steps/step_harness.h"

namespace matih::testing {
namespace {

const char* kVault = "create-key-vault";
const char* kSecrets = "store-tenant-secrets";

// Only matih-data's shares: the test loads matih-data and matih-vault.
const char* kParams17 = R"({"refresh_interval": "30m", "secrets": [
  {"name": "tenant-database", "entries": [{"key": "password", "from": "matih-data", "secret": "postgres/password"}]},
  {"name": "tenant-cache", "entries": [{"key": "password", "from": "matih-data", "secret": "redis/password"}]}]})";

// A port on 127.0.0.1 that refuses connections while the object lives (bound, never listening).
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t n = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n);
    port_ = ntohs(a.sin_port);
  }
  ~ClosedPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class Vault : public ::testing::Test {
 protected:
  void SetUp() override {
    harness_.SetParams(kSecrets, kParams17);
    a_ = StepHarness::MakeTenant("free", "va");
    b_ = StepHarness::MakeTenant("starter", "vb");
  }
  void UseKeyVault(const std::string& deleted = "recover") {
    kv_.RequireBearerToken("kv-token-1234567890");
    auto& s = harness_.settings();
    s["vault.backend"] = "azure-key-vault";
    s["vault.azure_url"] = kv_.url();
    s["vault.azure_token"] = "kv-token-1234567890";
    s["vault.azure_deleted"] = deleted;
  }
  std::string Query(const std::string& sql) {
    pqxx::connection c(harness_.database().url());
    pqxx::nontransaction tx(c);
    auto r = tx.exec(sql);
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].c_str();
  }
  bool HasDataKey(const TestTenant& t) {
    return Query("SELECT count(*) FROM matih.tenant_data_keys WHERE tenant_id = '" + t.view.id + "'") == "1";
  }
  // Every row of the tenant's secrets and data key, to show that nothing was written.
  std::string Rows(const TestTenant& t) {
    return Query(
               "SELECT string_agg(s::text, '|' ORDER BY name) FROM matih.tenant_secrets s WHERE tenant_id = "
               "'" +
               t.view.id + "'") +
           Query("SELECT d::text FROM matih.tenant_data_keys d WHERE tenant_id = '" + t.view.id + "'");
  }
  std::optional<std::string> Stored(const TestTenant& t, const std::string& name) {
    auto v = harness_.secrets().Get(t.view.id, name);
    if (!v.ok()) {
      EXPECT_EQ(runner::Code::kNotFound, v.status().code()) << v.status().ToString();
      return std::nullopt;
    }
    return *v;
  }
  void Share(const TestTenant& t, const std::string& name, const std::string& value) {
    ASSERT_TRUE(harness_.secrets().Put(t.view.id, "matih-data/" + name, value).ok());
  }
  void Ok(runner::StepAnswer answer, const std::string& what) {
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << what << ": " << answer.message;
  }
  matih_status Observe(const std::string& step, TestTenant& t) { return harness_.Observe(step, t).status; }
  std::string Repo() { return harness_.settings()["gitops.repository"]; }
  std::string File(const TestTenant& t) {
    return Repo() + "/tenants/" + t.view.slug + "/" + kSecrets + ".yaml";
  }
  std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  std::string Git(const std::string& args) {
    std::string out;
    RunCommand("git -C '" + Repo() + "' " + args + " 2>&1", &out);
    return out;
  }

  StepHarness harness_;
  FakeAzureKeyVaultServer kv_;
  TestTenant a_, b_;
};

// ---- step 16, built-in store -----------------------------------------------------------------

TEST_F(Vault, BuiltinVaultCreatesTheTenantsDataKeyAndChecksIt) {
  EXPECT_EQ(MATIH_STATUS_ABSENT, Observe(kVault, a_));
  EXPECT_FALSE(HasDataKey(a_));
  auto answer = harness_.Apply(kVault, a_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_EQ("builtin", answer.outputs["backend"]);
  EXPECT_EQ("tenant-" + a_.view.slug + "/vault", answer.outputs["remote_key"]);
  EXPECT_TRUE(HasDataKey(a_));
  EXPECT_EQ("data-key",
            Query("SELECT sealed_by FROM matih.tenant_secrets WHERE name = 'matih-vault/entries/vault'"));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe(kVault, a_));

  const std::string before = Rows(a_);
  Ok(harness_.Apply(kVault, a_), "apply again");
  EXPECT_EQ(before, Rows(a_)) << "a second apply must write nothing";
}

TEST_F(Vault, BuiltinHandChangeIsDriftAndRepaired) {
  Ok(harness_.Apply(kVault, a_), "apply");
  ASSERT_TRUE(harness_.secrets().Put(a_.view.id, "matih-vault/entries/vault", "hand-written").ok());
  auto seen = harness_.Observe(kVault, a_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, seen.status) << seen.message;
  Ok(harness_.Apply(kVault, a_), "repair");
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe(kVault, a_));
  ASSERT_TRUE(harness_.secrets().Delete(a_.view.id, "matih-vault/entries/vault").ok());
  EXPECT_EQ(MATIH_STATUS_ABSENT, Observe(kVault, a_));
  Ok(harness_.Apply(kVault, a_), "repair");
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe(kVault, a_));
}

TEST_F(Vault, BuiltinDataKeyUnderAnotherMasterKeyIsAnErrorNeverAbsent) {
  Ok(harness_.Apply(kVault, a_), "apply");
  harness_.database().Exec("UPDATE matih.tenant_data_keys SET master_key_id = '00000000deadbeef'");
  const std::string before = Rows(a_);
  auto seen = harness_.Observe(kVault, a_);
  EXPECT_TRUE(seen.is_error()) << seen.status << " " << seen.message;
  EXPECT_NE(MATIH_STATUS_UNAVAILABLE, seen.status);
  EXPECT_NE(std::string::npos, seen.message.find("not treated as absent")) << seen.message;
  EXPECT_TRUE(harness_.Apply(kVault, a_).is_error());
  EXPECT_EQ(before, Rows(a_)) << "nothing is reissued over an unreadable vault";
}

TEST_F(Vault, BuiltinRemoveShredsTheDataKeyWithTheTenantsLastSecret) {
  Ok(harness_.Apply(kVault, a_), "apply");
  ASSERT_NO_FATAL_FAILURE(Share(a_, "postgres/password", "pw-a"));
  Ok(harness_.Remove(kVault, a_), "remove");
  EXPECT_FALSE(Stored(a_, "matih-vault/entries/vault"));
  EXPECT_TRUE(HasDataKey(a_)) << "another secret of the tenant still needs the data key";
  ASSERT_TRUE(harness_.secrets().Delete(a_.view.id, "matih-data/postgres/password").ok());
  EXPECT_FALSE(HasDataKey(a_)) << "the last secret gone: the data key is destroyed";
  EXPECT_EQ("0", Query("SELECT count(*) FROM matih.tenant_secrets WHERE tenant_id = '" + a_.view.id + "'"));
  Ok(harness_.Remove(kVault, a_), "remove again");
  EXPECT_EQ(MATIH_STATUS_ABSENT, Observe(kVault, a_));
}

TEST_F(Vault, TenantsHaveTheirOwnDataKeysAndVaults) {
  Ok(harness_.Apply(kVault, a_), "apply a");
  Ok(harness_.Apply(kVault, b_), "apply b");
  EXPECT_EQ("2", Query("SELECT count(DISTINCT key_id) FROM matih.tenant_data_keys"));
  // A's marker copied into B's vault is drift there: it names A.
  ASSERT_TRUE(harness_.secrets()
                  .Put(b_.view.id, "matih-vault/entries/vault", *Stored(a_, "matih-vault/entries/vault"))
                  .ok());
  EXPECT_EQ(MATIH_STATUS_DRIFTED, Observe(kVault, b_));
  Ok(harness_.Apply(kVault, b_), "repair b");
  Ok(harness_.Remove(kVault, a_), "remove a");
  EXPECT_FALSE(HasDataKey(a_));
  EXPECT_TRUE(HasDataKey(b_));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe(kVault, b_));
}

TEST_F(Vault, BadParamsAndSettingsAreRefused) {
  EXPECT_TRUE(harness_.KindOf(kVault).ValidateParams("{}").ok());
  EXPECT_FALSE(harness_.KindOf(kVault).ValidateParams(R"({"sku": "premium"})").ok());
  const auto& kind = harness_.KindOf(kSecrets);
  EXPECT_TRUE(kind.ValidateParams(kParams17).ok()) << kind.ValidateParams(kParams17).ToString();
  EXPECT_TRUE(kind.ValidateParams(harness_.Step(kSecrets).params_json).ok()) << "the catalog's own params";
  for (
      const char* bad : {
          R"({})",
          R"({"secrets": []})",
          R"({"secrets": [{"name": "Bad_Name", "entries": [{"key": "k", "from": "matih-data", "secret": "s"}]}]})",
          R"({"secrets": [{"name": "a", "entries": []}]})",
          R"({"secrets": [{"name": "a", "entries": [{"key": "k", "from": "data", "secret": "s"}]}]})",
          R"({"secrets": [{"name": "a", "entries": [{"key": "k", "from": "matih-data", "secret": "sas/*"}]}]})",
          R"({"secrets": [{"name": "a", "entries": [{"key": "k", "from": "matih-data", "secret": "s"}, {"key": "k", "from": "matih-data", "secret": "t"}]}]})",
          R"({"refresh_interval": "soon", "secrets": [{"name": "a", "entries": [{"key": "k", "from": "matih-data", "secret": "s"}]}]})",
          R"({"secret_store": {"kind": "Vault"}, "secrets": [{"name": "a", "entries": [{"key": "k", "from": "matih-data", "secret": "s"}]}]})",
          R"({"extra": 1, "secrets": [{"name": "a", "entries": [{"key": "k", "from": "matih-data", "secret": "s"}]}]})",
      }) {
    EXPECT_FALSE(kind.ValidateParams(bad).ok()) << bad;
  }
  harness_.settings()["vault.backend"] = "hashicorp";
  auto answer = harness_.Apply(kVault, a_);
  EXPECT_EQ(MATIH_STATUS_INVALID_ARGUMENT, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("vault.backend")) << answer.message;
}

// ---- step 16, Azure Key Vault (fake) ---------------------------------------------------------

TEST_F(Vault, KeyVaultMarkerIsWrittenOnceObservedAndRepaired) {
  UseKeyVault();
  const std::string name = "t-" + a_.view.slug + "-vault";
  EXPECT_EQ(MATIH_STATUS_ABSENT, Observe(kVault, a_));
  auto answer = harness_.Apply(kVault, a_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_EQ("azure-key-vault " + kv_.url(), answer.outputs["backend"]);
  ASSERT_TRUE(kv_.Live(name));
  EXPECT_EQ(a_.view.slug, kv_.Live(name)->tags["matih-tenant"]);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe(kVault, a_));
  const int writes = kv_.writes();
  Ok(harness_.Apply(kVault, a_), "apply again");
  EXPECT_EQ(writes, kv_.writes()) << "a second apply must write nothing";

  kv_.SetLive(name, {"changed by hand", {{"matih-tenant", a_.view.slug}}, 0});
  EXPECT_EQ(MATIH_STATUS_DRIFTED, Observe(kVault, a_));
  Ok(harness_.Apply(kVault, a_), "repair");
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe(kVault, a_));
  EXPECT_EQ(MATIH_STATUS_ABSENT, Observe(kVault, b_)) << "B has no vault entry yet";
}

TEST_F(Vault, KeyVaultSoftDeletedMarkerIsRecovered) {
  UseKeyVault("recover");
  const std::string name = "t-" + a_.view.slug + "-vault";
  Ok(harness_.Apply(kVault, a_), "apply");
  kv_.SoftDelete(name);
  EXPECT_EQ(MATIH_STATUS_ABSENT, Observe(kVault, a_));
  Ok(harness_.Apply(kVault, a_), "apply over a soft-deleted secret");
  EXPECT_TRUE(kv_.Live(name));
  EXPECT_FALSE(kv_.Deleted(name));
  bool recovered = false;
  for (const auto& r : kv_.requests()) recovered |= r == "POST /deletedsecrets/" + name + "/recover";
  EXPECT_TRUE(recovered);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe(kVault, a_));
  Ok(harness_.Remove(kVault, a_), "remove");
  EXPECT_FALSE(kv_.Live(name));
  EXPECT_TRUE(kv_.Deleted(name)) << "recover mode leaves the deleted secret recoverable";
  Ok(harness_.Remove(kVault, a_), "remove again");
}

TEST_F(Vault, KeyVaultPurgeModePurgesWhatIsInTheWayAndWhatItRemoves) {
  UseKeyVault("purge");
  const std::string name = "t-" + a_.view.slug + "-vault";
  kv_.SetLive(name, {"old", {{"matih-tenant", a_.view.slug}}, 0});
  kv_.SoftDelete(name);
  Ok(harness_.Apply(kVault, a_), "apply over a soft-deleted secret");
  EXPECT_TRUE(kv_.Live(name));
  EXPECT_NE("old", kv_.Live(name)->value);
  Ok(harness_.Remove(kVault, a_), "remove");
  EXPECT_FALSE(kv_.Live(name));
  EXPECT_FALSE(kv_.Deleted(name)) << "purge mode leaves nothing behind";
}

TEST_F(Vault, KeyVaultSecretOfAnotherTenantIsLeftAlone) {
  UseKeyVault();
  const std::string name = "t-" + a_.view.slug + "-vault";
  kv_.SetLive(name, {"someone else's", {{"matih-tenant", "other"}}, 0});
  auto answer = harness_.Apply(kVault, a_);
  EXPECT_TRUE(answer.is_error());
  EXPECT_NE(MATIH_STATUS_UNAVAILABLE, answer.status) << answer.message;
  EXPECT_EQ("someone else's", kv_.Live(name)->value);
  EXPECT_TRUE(harness_.Remove(kVault, a_).is_error());
  EXPECT_TRUE(kv_.Live(name));
}

TEST_F(Vault, KeyVaultRefusedTokenIsPermanentAndUnreachableIsTransient) {
  UseKeyVault();
  harness_.settings()["vault.azure_token"] = "wrong-token-abcdefgh";
  auto refused = harness_.Apply(kVault, a_);
  EXPECT_EQ(MATIH_STATUS_PERMISSION_DENIED, refused.status) << refused.message;
  EXPECT_NE(std::string::npos, refused.message.find("vault.azure_token")) << refused.message;
  EXPECT_EQ(std::string::npos, refused.message.find("wrong-token-abcdefgh")) << refused.message;

  harness_.settings()["vault.azure_token"] = "kv-token-1234567890";
  kv_.FailNext(503);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Apply(kVault, a_).status);
  kv_.FailNext(429);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Apply(kVault, a_).status) << "throttled: retry later";
  Ok(harness_.Apply(kVault, a_), "after the outage");

  ClosedPort closed;
  harness_.settings()["vault.azure_url"] = "http://127.0.0.1:" + std::to_string(closed.port());
  auto down = harness_.Observe(kVault, a_);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, down.status) << down.message;
}

// ---- step 17 ----------------------------------------------------------------------------------

TEST_F(Vault, TenantSecretsAreCopiedAndReferencedByExternalSecrets) {
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe(kSecrets, a_)) << "no source: nothing is due";
  ASSERT_NO_FATAL_FAILURE(Share(a_, "postgres/password", "pg-password-of-a-123"));
  EXPECT_EQ(MATIH_STATUS_ABSENT, Observe(kSecrets, a_));
  auto answer = harness_.Apply(kSecrets, a_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_EQ("tenant-database", answer.outputs["external_secrets"]);
  EXPECT_EQ("1", answer.outputs["entries"]);
  EXPECT_EQ("matih-data/redis/password", answer.outputs["pending"]);
  EXPECT_EQ("pg-password-of-a-123", Stored(a_, "matih-vault/entries/tenant-database-password").value_or(""));
  EXPECT_FALSE(Stored(a_, "matih-vault/entries/tenant-cache-password"));

  const std::string file = ReadFile(File(a_));
  EXPECT_NE(std::string::npos, file.find("kind: ExternalSecret")) << file;
  EXPECT_NE(std::string::npos, file.find("apiVersion: external-secrets.io/v1beta1")) << file;
  EXPECT_NE(std::string::npos, file.find("key: tenant-" + a_.view.slug + "/tenant-database-password"))
      << file;
  EXPECT_NE(std::string::npos, file.find("namespace: tenant-" + a_.view.slug)) << file;
  EXPECT_NE(std::string::npos, file.find("kind: ClusterSecretStore")) << file;
  EXPECT_NE(std::string::npos, file.find("refreshInterval: 30m")) << file;
  EXPECT_EQ(std::string::npos, file.find("tenant-cache")) << "no object names an entry that does not exist";
  EXPECT_EQ(std::string::npos, file.find("pg-password-of-a-123")) << "no value in git";
  EXPECT_EQ(std::string::npos, file.find("kind: Secret\n")) << "no plaintext Secret in git";
  EXPECT_EQ(std::string::npos, Git("log -p --all").find("pg-password-of-a-123"));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe(kSecrets, a_));
  // For the offline schema check (steps.vault.validate_external_secrets).
  if (const char* dir = std::getenv("MATIH_RENDER_DIR")) {
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(File(a_), std::string(dir) + "/store-tenant-secrets.yaml",
                               std::filesystem::copy_options::overwrite_existing);
  }

  const std::string rows = Rows(a_), head = Git("rev-parse HEAD");
  Ok(harness_.Apply(kSecrets, a_), "apply again");
  EXPECT_EQ(rows, Rows(a_));
  EXPECT_EQ(head, Git("rev-parse HEAD")) << "a second apply must not commit";
}

TEST_F(Vault, NewChangedAndVanishedSourcesAreDriftRepairedByApply) {
  ASSERT_NO_FATAL_FAILURE(Share(a_, "postgres/password", "pg-password-of-a-123"));
  Ok(harness_.Apply(kSecrets, a_), "apply");
  // Step 22 runs later and shares its password: the next observe sees it, without its value.
  ASSERT_NO_FATAL_FAILURE(Share(a_, "redis/password", "redis-password-of-a-456"));
  auto seen = harness_.Observe(kSecrets, a_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, seen.status);
  EXPECT_NE(std::string::npos, seen.message.find("tenant-cache-password missing")) << seen.message;
  EXPECT_EQ(std::string::npos, seen.message.find("redis-password-of-a-456"));
  auto answer = harness_.Apply(kSecrets, a_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_EQ("", answer.outputs["pending"]);
  EXPECT_EQ("redis-password-of-a-456", Stored(a_, "matih-vault/entries/tenant-cache-password").value_or(""));
  EXPECT_NE(std::string::npos,
            ReadFile(File(a_)).find("key: tenant-" + a_.view.slug + "/tenant-cache-password"));

  // A rotated source, and a hand change in the vault.
  ASSERT_NO_FATAL_FAILURE(Share(a_, "postgres/password", "pg-password-rotated-789"));
  seen = harness_.Observe(kSecrets, a_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, seen.status);
  EXPECT_NE(std::string::npos, seen.message.find("tenant-database-password out of date")) << seen.message;
  EXPECT_EQ(std::string::npos, seen.message.find("pg-password"));
  Ok(harness_.Apply(kSecrets, a_), "repair");
  EXPECT_EQ("pg-password-rotated-789",
            Stored(a_, "matih-vault/entries/tenant-database-password").value_or(""));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe(kSecrets, a_));

  // The source is gone (its step was removed): the entry goes too.
  ASSERT_TRUE(harness_.secrets().Delete(a_.view.id, "matih-data/redis/password").ok());
  EXPECT_EQ(MATIH_STATUS_DRIFTED, Observe(kSecrets, a_));
  Ok(harness_.Apply(kSecrets, a_), "repair");
  EXPECT_FALSE(Stored(a_, "matih-vault/entries/tenant-cache-password"));
  EXPECT_EQ(std::string::npos, ReadFile(File(a_)).find("tenant-cache"));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe(kSecrets, a_));
}

TEST_F(Vault, NoSourceYetMeansNoObjectsUntilOneAppears) {
  auto answer = harness_.Apply(kSecrets, a_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_EQ("", answer.outputs["external_secrets"]);
  EXPECT_EQ("0", answer.outputs["entries"]);
  EXPECT_EQ("matih-data/postgres/password,matih-data/redis/password", answer.outputs["pending"]);
  EXPECT_FALSE(std::filesystem::exists(File(a_)));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe(kSecrets, a_)) << "nothing is due yet";
  ASSERT_NO_FATAL_FAILURE(Share(a_, "redis/password", "redis-password-of-a-456"));
  EXPECT_EQ(MATIH_STATUS_ABSENT, Observe(kSecrets, a_));
  Ok(harness_.Apply(kSecrets, a_), "apply");
  EXPECT_NE(std::string::npos, ReadFile(File(a_)).find("name: tenant-cache"));
  EXPECT_EQ(std::string::npos, ReadFile(File(a_)).find("name: tenant-database"));
  // Its last source gone, the objects go too.
  ASSERT_TRUE(harness_.secrets().Delete(a_.view.id, "matih-data/redis/password").ok());
  EXPECT_EQ(MATIH_STATUS_DRIFTED, Observe(kSecrets, a_));
  Ok(harness_.Apply(kSecrets, a_), "apply");
  EXPECT_FALSE(std::filesystem::exists(File(a_)));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe(kSecrets, a_));
}

TEST_F(Vault, ExternalSecretDeletedFromGitIsDriftAndRestored) {
  ASSERT_NO_FATAL_FAILURE(Share(a_, "postgres/password", "pg-password-of-a-123"));
  Ok(harness_.Apply(kSecrets, a_), "apply");
  Git("rm -q tenants/" + a_.view.slug + "/" + kSecrets + ".yaml");
  Git("-c user.name=op -c user.email=op@example.test commit -qm 'by hand'");
  auto seen = harness_.Observe(kSecrets, a_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, seen.status) << seen.message;
  Ok(harness_.Apply(kSecrets, a_), "repair");
  EXPECT_TRUE(std::filesystem::exists(File(a_)));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe(kSecrets, a_));
}

TEST_F(Vault, RemoveDeletesObjectsAndEntriesAndTenantsStayApart) {
  ASSERT_NO_FATAL_FAILURE(Share(a_, "postgres/password", "pg-password-of-a-123"));
  ASSERT_NO_FATAL_FAILURE(Share(b_, "postgres/password", "pg-password-of-b-321"));
  Ok(harness_.Apply(kSecrets, a_), "apply a");
  Ok(harness_.Apply(kSecrets, b_), "apply b");
  EXPECT_EQ("pg-password-of-b-321", Stored(b_, "matih-vault/entries/tenant-database-password").value_or(""));
  EXPECT_EQ(std::string::npos, ReadFile(File(b_)).find("tenant-" + a_.view.slug))
      << "B's objects name only B";

  Ok(harness_.Remove(kSecrets, a_), "remove a");
  EXPECT_FALSE(std::filesystem::exists(File(a_)));
  EXPECT_FALSE(Stored(a_, "matih-vault/entries/tenant-database-password"));
  EXPECT_EQ(MATIH_STATUS_ABSENT, Observe(kSecrets, a_));
  Ok(harness_.Remove(kSecrets, a_), "remove again");
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe(kSecrets, b_));
  EXPECT_EQ("pg-password-of-b-321", Stored(b_, "matih-vault/entries/tenant-database-password").value_or(""));
}

TEST_F(Vault, KeyVaultBackendHoldsTheEntriesTheObjectsName) {
  UseKeyVault();
  ASSERT_NO_FATAL_FAILURE(Share(a_, "postgres/password", "pg-password-of-a-123"));
  Ok(harness_.Apply(kSecrets, a_), "apply");
  const std::string name = "t-" + a_.view.slug + "-tenant-database-password";
  ASSERT_TRUE(kv_.Live(name));
  EXPECT_EQ("pg-password-of-a-123", kv_.Live(name)->value);
  EXPECT_NE(std::string::npos, ReadFile(File(a_)).find("key: " + name));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe(kSecrets, a_));
  kv_.SetLive(name, {"hand", {{"matih-tenant", a_.view.slug}}, 0});
  EXPECT_EQ(MATIH_STATUS_DRIFTED, Observe(kSecrets, a_));
  Ok(harness_.Apply(kSecrets, a_), "repair");
  EXPECT_EQ("pg-password-of-a-123", kv_.Live(name)->value);
  Ok(harness_.Remove(kSecrets, a_), "remove");
  EXPECT_FALSE(kv_.Live(name));
}

}  // namespace
}  // namespace matih::testing
