// Secret writes fenced by the lease (issue 17 §3): a step's put_secret or delete_secret from a
// runner whose lease on the tenant was taken over is refused (ABORTED, "lease lost") and changes
// nothing; the current lease writes; an operator (no lease) writes unfenced; reads are never
// fenced. Real PostgreSQL with every migration (the fence reads matih.tenants), the probe test
// plugin through the real plugin host, and the built-in store, with the lease in the StepCall
// exactly as ProvisioningService makes it (lease_owner, lease_epoch).
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "isolation/plugin_loader.h"
#include "plugin_test_support.h"
#include "secrets/sodium_secret_store.h"
#include "secrets_test_support.h"
#include "store/database.h"
#include "store/migrator.h"

namespace matih::runner {
namespace {

using matih::testing::LoadPlugins;
using matih::testing::TestCall;
using matih::testing::TestPluginDir;

const std::string kFirst = "first-Value-5a1d9e3c";
const std::string kSecond = "second-Value-8b2f0c4d";
const std::string kStored = "probe/db-password";

class SecretFencing : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = matih::testing::TestDatabase::Create();
    Database database(db_->url());
    auto applied = Migrator(database).Migrate();
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
    tenant_ = TestCall("x").tenant.id;
    Exec(
        "INSERT INTO matih.tenants (id, slug, tier, region, admin_email, status, lease_owner, lease_epoch, "
        "lease_expires_at) VALUES ('" +
        tenant_ +
        "', 'acme', 'professional', 'westeurope', 'ops@acme.example', 'PROVISIONING', 'runner-a', 4, "
        "now() + interval '1 minute')");
    store_ = std::make_unique<SodiumSecretStore>(db_->url(), matih::testing::TestKey(5));
    host_ = LoadPlugins({TestPluginDir("probe")});
    ASSERT_TRUE(host_);
  }
  void Exec(const std::string& sql) {
    pqxx::connection c(db_->url());
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  }
  // Another runner takes the tenant over, as a claim of an expired lease does.
  void TakeOver() {
    Exec("UPDATE matih.tenants SET lease_owner = 'runner-b', lease_epoch = lease_epoch + 1");
  }
  // A step call of runner `owner` holding the lease at `epoch`, putting `value`.
  StepAnswer Step(const std::string& kind, const std::string& owner, int64_t epoch,
                  const std::string& value) {
    std::map<std::string, std::string> settings{{"test.secret_value", value}};
    StepCall call = TestCall("store-tenant-secrets");
    call.secrets = store_.get();
    call.settings = &settings;
    call.lease_epoch = epoch;
    call.lease_owner = owner;
    return host_->Find(kind)->Apply(call);
  }
  std::string Stored() {
    auto value = store_->Get(tenant_, kStored);
    return value.ok() ? *value : "<" + value.status().ToString() + ">";
  }
  std::string Rows() {
    pqxx::connection c(db_->url());
    pqxx::nontransaction tx(c);
    auto r = tx.exec(
        "SELECT coalesce(string_agg(s::text, '|' ORDER BY name), '') || '#' || "
        "(SELECT coalesce(string_agg(d::text, '|'), '') FROM matih.tenant_data_keys d) "
        "FROM matih.tenant_secrets s");
    return r[0][0].as<std::string>();
  }

  std::unique_ptr<matih::testing::TestDatabase> db_;
  std::string tenant_;
  std::unique_ptr<SodiumSecretStore> store_;
  std::unique_ptr<PluginHost> host_;
};

TEST_F(SecretFencing, CurrentLeasePutsAndDeletes) {
  StepAnswer put = Step("test.secret_put", "runner-a", 4, kFirst);
  ASSERT_EQ(put.status, MATIH_STATUS_OK) << put.message;
  EXPECT_EQ(Stored(), kFirst);
  StepAnswer del = Step("test.secret_delete", "runner-a", 4, "");
  ASSERT_EQ(del.status, MATIH_STATUS_OK) << del.message;
  EXPECT_EQ(store_->Get(tenant_, kStored).status().code(), Code::kNotFound);
}

TEST_F(SecretFencing, StaleLeasePutIsRefusedAndTheValueIsUnchanged) {
  ASSERT_EQ(Step("test.secret_put", "runner-a", 4, kFirst).status, MATIH_STATUS_OK);
  TakeOver();
  const std::string before = Rows();
  StepAnswer stale = Step("test.secret_put", "runner-a", 4, kSecond);
  EXPECT_EQ(stale.status, MATIH_STATUS_ABORTED) << stale.message;
  EXPECT_EQ(stale.message.find(kSecond), std::string::npos) << "the value leaked into the message";
  EXPECT_EQ(Stored(), kFirst);
  EXPECT_EQ(Rows(), before) << "a refused write changed a row";
  Status direct = store_->PutFenced({"runner-a", 4}, tenant_, kStored, kSecond);
  EXPECT_EQ(direct.code(), Code::kAborted);
  EXPECT_NE(direct.message().find("lease lost"), std::string::npos) << direct.message();
  EXPECT_EQ(direct.message().find(kSecond), std::string::npos);
  EXPECT_EQ(Rows(), before);
  // The runner that took over writes.
  ASSERT_EQ(Step("test.secret_put", "runner-b", 5, kSecond).status, MATIH_STATUS_OK);
  EXPECT_EQ(Stored(), kSecond);
}

TEST_F(SecretFencing, StaleLeaseDeleteIsRefusedAndTheValueStays) {
  ASSERT_EQ(Step("test.secret_put", "runner-a", 4, kFirst).status, MATIH_STATUS_OK);
  TakeOver();
  const std::string before = Rows();
  StepAnswer stale = Step("test.secret_delete", "runner-a", 4, "");
  EXPECT_EQ(stale.status, MATIH_STATUS_ABORTED) << stale.message;
  EXPECT_EQ(Stored(), kFirst);
  EXPECT_EQ(Rows(), before) << "the data key must survive too (no crypto-shredding by a stale runner)";
  EXPECT_EQ(store_->DeleteAllFenced({"runner-a", 4}, tenant_).code(), Code::kAborted)
      << "deprovisioning by a stale runner";
  EXPECT_EQ(Rows(), before);
}

TEST_F(SecretFencing, SameOwnerWithAnOlderEpochIsStale) {
  // The same runner claimed the tenant again (lease expired, reclaimed): its old calls are stale.
  Exec("UPDATE matih.tenants SET lease_epoch = 5");
  StepAnswer old_epoch = Step("test.secret_put", "runner-a", 4, kFirst);
  EXPECT_EQ(old_epoch.status, MATIH_STATUS_ABORTED) << old_epoch.message;
  EXPECT_EQ(store_->Get(tenant_, kStored).status().code(), Code::kNotFound);
  EXPECT_EQ(Step("test.secret_put", "runner-a", 5, kFirst).status, MATIH_STATUS_OK);
}

TEST_F(SecretFencing, ReleasedLeaseOrUnknownTenantRefusesWrites) {
  Exec("UPDATE matih.tenants SET lease_owner = NULL, lease_expires_at = NULL");
  EXPECT_EQ(Step("test.secret_put", "runner-a", 4, kFirst).status, MATIH_STATUS_ABORTED);
  EXPECT_EQ(store_->PutFenced({"runner-a", 4}, "9d1c2b3a-0000-4e5f-a6b7-c8d9e0f1a2b3", "x", "value-x").code(),
            Code::kAborted);
  EXPECT_EQ(store_->PutFenced({"runner-a", 4}, "not-a-uuid", "x", "value-x").code(), Code::kAborted);
  EXPECT_EQ(Rows(), "#");
}

TEST_F(SecretFencing, OperatorWritesNeedNoLeaseAndReadsAreNotFenced) {
  TakeOver();
  // The CLI (secrets rotate-key, an operator's tooling) holds no lease.
  ASSERT_TRUE(store_->Put(tenant_, kStored, kFirst).ok());
  // A stale runner's step still reads (reads are not fenced).
  std::map<std::string, std::string> settings{{"test.secret_value", kFirst}};
  StepCall call = TestCall("provision-database");
  call.secrets = store_.get();
  call.settings = &settings;
  call.lease_owner = "runner-a";
  call.lease_epoch = 4;
  StepAnswer check = host_->Find("test.secret_check")->Apply(call);
  ASSERT_EQ(check.status, MATIH_STATUS_OK) << check.message;
  EXPECT_EQ(check.outputs.at("matches"), "yes");
  auto read = store_->Get(tenant_, kStored);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, kFirst);
  ASSERT_TRUE(store_->Delete(tenant_, kStored).ok());
  ASSERT_TRUE(store_->Put("operator-only-tenant", "n", "value-n").ok()) << "no tenant row needed unfenced";
  EXPECT_TRUE(store_->DeleteAll("operator-only-tenant").ok());
  EXPECT_EQ(Rows(), "#");
}

// With plugins in worker processes the secret write travels to the runner (isolation/worker_pool.cc)
// and is fenced there by the runner's own StepCall, whatever the worker says.
TEST_F(SecretFencing, InAWorkerProcessAStaleLeaseIsRefusedToo) {
  PluginHostOptions options;
  options.plugin_dirs = {TestPluginDir("probe")};
  options.workers.enabled = true;
  options.workers.executable = MATIH_PROVISIONER_BIN;
  options.workers.log_level = "warn";
  auto isolated = isolation::LoadPlugins(options);
  ASSERT_TRUE(isolated.ok()) << isolated.status().ToString();
  host_ = std::move(isolated).value();
  ASSERT_TRUE(host_->Find("test.secret_put")->stops_on_deadline()) << "not a worker-process kind";
  ASSERT_EQ(Step("test.secret_put", "runner-a", 4, kFirst).status, MATIH_STATUS_OK);
  TakeOver();
  const std::string before = Rows();
  EXPECT_EQ(Step("test.secret_put", "runner-a", 4, kSecond).status, MATIH_STATUS_ABORTED);
  EXPECT_EQ(Step("test.secret_delete", "runner-a", 4, "").status, MATIH_STATUS_ABORTED);
  EXPECT_EQ(Stored(), kFirst);
  EXPECT_EQ(Rows(), before);
  EXPECT_EQ(Step("test.secret_put", "runner-b", 5, kSecond).status, MATIH_STATUS_OK);
  EXPECT_EQ(Stored(), kSecond);
}

}  // namespace
}  // namespace matih::runner
