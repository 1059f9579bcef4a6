// The built-in secret store's envelope encryption and master-key rotation on the real PostgreSQL
// of the local stack: a data key per tenant wrapped by the master key, values sealed with it,
// crypto-shredding when the tenant's last secret goes, rows of the pre-envelope format still
// readable and migrated, and RotateMasterKey re-wrapping data keys without touching values.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "secrets/envelope.h"
#include "secrets/key_rotation.h"
#include "secrets/secret_key.h"
#include "secrets/sodium_secret_store.h"
#include "store/database.h"
#include "store/migrator.h"
#include "support/test_database.h"

namespace matih::runner {
namespace {

using matih::testing::TestDatabase;

const std::string kTenantA = "3c0f5a9e-1111-4e5f-a6b7-c8d9e0f1a2b3";
const std::string kTenantB = "7d2e6b1f-2222-4e5f-a6b7-c8d9e0f1a2b3";

SecretKey Key(char fill) {
  auto key = SecretKey::FromHex(std::string(64, fill), "a test");
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return std::move(key).value();
}

class SecretEnvelope : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = TestDatabase::Create();
    Database database(db_->url());
    auto applied = Migrator(database).Migrate();
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  }
  std::string Query(const std::string& sql) {
    pqxx::connection c(db_->url());
    pqxx::nontransaction tx(c);
    auto r = tx.exec(sql);
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].c_str();
  }
  int Count(const std::string& sql) { return std::stoi(Query(sql)); }
  // Every row of both tables, all columns, as text.
  std::string Tables() {
    return Query(
               "SELECT coalesce(string_agg(t::text, '|' ORDER BY tenant_id, name), '') FROM "
               "matih.tenant_secrets t") +
           "#" +
           Query(
               "SELECT coalesce(string_agg(d::text, '|' ORDER BY tenant_id), '') FROM matih.tenant_data_keys "
               "d");
  }
  // A row as the store wrote it before envelope encryption: sealed by the master key itself.
  void PutLegacy(const SecretKey& master, const std::string& tenant, const std::string& name,
                 const std::string& value) {
    Sealed sealed = SealLegacy(master, tenant, name, value);
    pqxx::connection c(db_->url());
    pqxx::work tx(c);
    tx.exec_params(
        "INSERT INTO matih.tenant_secrets (tenant_id, name, key_id, nonce, ciphertext) VALUES ($1, $2, $3, "
        "$4, $5)",
        tenant, name, master.id(), pqxx::binarystring(sealed.nonce.data(), sealed.nonce.size()),
        pqxx::binarystring(sealed.ciphertext.data(), sealed.ciphertext.size()));
    tx.commit();
  }

  std::unique_ptr<TestDatabase> db_;
};

TEST_F(SecretEnvelope, FirstPutCreatesOneWrappedDataKeyPerTenant) {
  SodiumSecretStore store(db_->url(), Key('a'));
  EXPECT_EQ(0, Count("SELECT count(*) FROM matih.tenant_data_keys"));
  ASSERT_TRUE(store.Put(kTenantA, "one", "value-one").ok());
  ASSERT_TRUE(store.Put(kTenantA, "two", "value-two").ok());
  ASSERT_TRUE(store.Put(kTenantB, "one", "value-b").ok());
  EXPECT_EQ(2, Count("SELECT count(*) FROM matih.tenant_data_keys"));
  EXPECT_EQ(Key('a').id(),
            Query("SELECT string_agg(DISTINCT master_key_id, ',') FROM matih.tenant_data_keys"));
  // Values carry their tenant's data key id, not the master key's; the two tenants' keys differ.
  EXPECT_EQ(
      2,
      Count("SELECT count(*) FROM matih.tenant_secrets s JOIN matih.tenant_data_keys d "
            "USING (tenant_id) WHERE s.key_id = d.key_id AND s.sealed_by = 'data-key' AND s.tenant_id = '" +
            kTenantA + "'"));
  EXPECT_EQ(1, Count("SELECT count(DISTINCT key_id) FROM matih.tenant_secrets WHERE tenant_id = '" +
                     kTenantA + "'"));
  EXPECT_EQ(2, Count("SELECT count(DISTINCT key_id) FROM matih.tenant_data_keys"));
  EXPECT_EQ("value-one", *store.Get(kTenantA, "one"));
  EXPECT_EQ("value-b", *store.Get(kTenantB, "one"));
  // A second store (another runner) with the same master key reads them.
  SodiumSecretStore other(db_->url(), Key('a'));
  EXPECT_EQ("value-two", *other.Get(kTenantA, "two"));
}

TEST_F(SecretEnvelope, WrappedDataKeyMovedToAnotherTenantDoesNotOpen) {
  SodiumSecretStore store(db_->url(), Key('a'));
  ASSERT_TRUE(store.Put(kTenantA, "x", "value-a").ok());
  ASSERT_TRUE(store.Put(kTenantB, "x", "value-b").ok());
  db_->Exec(
      "UPDATE matih.tenant_data_keys d SET nonce = s.nonce, wrapped_key = s.wrapped_key, key_id = s.key_id "
      "FROM matih.tenant_data_keys s WHERE s.tenant_id = '" +
      kTenantA + "' AND d.tenant_id = '" + kTenantB + "'");
  auto got = store.Get(kTenantB, "x");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(Code::kFailedPrecondition, got.status().code()) << got.status().ToString();
  EXPECT_NE(std::string::npos, got.status().message().find("does not open")) << got.status().ToString();
  EXPECT_EQ("value-a", *store.Get(kTenantA, "x"));
}

TEST_F(SecretEnvelope, LastSecretGoneDestroysTheDataKey) {
  SodiumSecretStore store(db_->url(), Key('a'));
  ASSERT_TRUE(store.Put(kTenantA, "one", "1").ok());
  ASSERT_TRUE(store.Put(kTenantA, "two", "2").ok());
  ASSERT_TRUE(store.Put(kTenantB, "one", "b").ok());
  ASSERT_TRUE(store.Delete(kTenantA, "one").ok());
  EXPECT_EQ(1, Count("SELECT count(*) FROM matih.tenant_data_keys WHERE tenant_id = '" + kTenantA + "'"));
  ASSERT_TRUE(store.Delete(kTenantA, "two").ok());
  EXPECT_EQ(0, Count("SELECT count(*) FROM matih.tenant_data_keys WHERE tenant_id = '" + kTenantA + "'"));
  ASSERT_TRUE(store.Delete(kTenantA, "two").ok()) << "deleting again is fine";
  EXPECT_EQ(1, Count("SELECT count(*) FROM matih.tenant_data_keys WHERE tenant_id = '" + kTenantB + "'"));
  ASSERT_TRUE(store.DeleteAll(kTenantB).ok());
  EXPECT_EQ(0, Count("SELECT count(*) FROM matih.tenant_data_keys"));
  // A new secret afterwards gets a new data key.
  ASSERT_TRUE(store.Put(kTenantA, "again", "v").ok());
  EXPECT_EQ("v", *store.Get(kTenantA, "again"));
}

TEST_F(SecretEnvelope, ValueWhoseDataKeyWasDestroyedIsAnErrorNotAbsent) {
  SodiumSecretStore store(db_->url(), Key('a'));
  ASSERT_TRUE(store.Put(kTenantA, "x", "value").ok());
  db_->Exec("DELETE FROM matih.tenant_data_keys");
  auto got = store.Get(kTenantA, "x");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(Code::kNotFound, got.status().code()) << got.status().ToString();
  EXPECT_NE(std::string::npos, got.status().message().find("data key is gone")) << got.status().ToString();
}

TEST_F(SecretEnvelope, PreEnvelopeRowsStayReadableAndMoveUnderTheDataKeyWhenWritten) {
  const SecretKey master = Key('a');
  PutLegacy(master, kTenantA, "old", "legacy-value");
  SodiumSecretStore store(db_->url(), Key('a'));
  EXPECT_EQ("legacy-value", *store.Get(kTenantA, "old"));
  EXPECT_EQ("master", Query("SELECT sealed_by FROM matih.tenant_secrets WHERE name = 'old'"));
  // Another master key is told apart, and says so.
  SodiumSecretStore wrong(db_->url(), Key('b'));
  auto got = wrong.Get(kTenantA, "old");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(std::string::npos, got.status().message().find("another key")) << got.status().ToString();
  // The next write re-seals it under the tenant's (new) data key.
  ASSERT_TRUE(store.Put(kTenantA, "old", "newer-value").ok());
  EXPECT_EQ("data-key", Query("SELECT sealed_by FROM matih.tenant_secrets WHERE name = 'old'"));
  EXPECT_EQ(Query("SELECT key_id FROM matih.tenant_data_keys"),
            Query("SELECT key_id FROM matih.tenant_secrets"));
  EXPECT_EQ("newer-value", *store.Get(kTenantA, "old"));
}

TEST_F(SecretEnvelope, RotationRewrapsDataKeysWithoutTouchingValues) {
  {
    SodiumSecretStore store(db_->url(), Key('a'));
    ASSERT_TRUE(store.Put(kTenantA, "one", "value-one").ok());
    ASSERT_TRUE(store.Put(kTenantB, "two", "value-two").ok());
  }
  const std::string values_before =
      Query("SELECT string_agg(t::text, '|' ORDER BY tenant_id, name) FROM matih.tenant_secrets t");
  const std::string wrapped_before =
      Query("SELECT string_agg(encode(wrapped_key, 'hex'), ',') FROM matih.tenant_data_keys");

  auto report = RotateMasterKey(db_->url(), Key('a'), Key('c'));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(2, report->data_keys_rewrapped);
  EXPECT_EQ(0, report->legacy_values_migrated);

  EXPECT_EQ(values_before,
            Query("SELECT string_agg(t::text, '|' ORDER BY tenant_id, name) FROM matih.tenant_secrets t"))
      << "values must not be rewritten";
  EXPECT_NE(wrapped_before,
            Query("SELECT string_agg(encode(wrapped_key, 'hex'), ',') FROM matih.tenant_data_keys"));
  EXPECT_EQ(Key('c').id(),
            Query("SELECT string_agg(DISTINCT master_key_id, ',') FROM matih.tenant_data_keys"));
  EXPECT_EQ(2, Count("SELECT count(*) FROM matih.tenant_data_keys WHERE rewrapped_at IS NOT NULL"));

  SodiumSecretStore renewed(db_->url(), Key('c'));
  EXPECT_EQ("value-one", *renewed.Get(kTenantA, "one"));
  EXPECT_EQ("value-two", *renewed.Get(kTenantB, "two"));
  ASSERT_TRUE(renewed.Put(kTenantA, "three", "value-three").ok());
  EXPECT_EQ(2, Count("SELECT count(*) FROM matih.tenant_data_keys")) << "the existing data key is reused";

  SodiumSecretStore stale(db_->url(), Key('a'));
  auto got = stale.Get(kTenantA, "one");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(Code::kFailedPrecondition, got.status().code());
  EXPECT_NE(std::string::npos, got.status().message().find("another key")) << got.status().ToString();
  EXPECT_EQ(Code::kFailedPrecondition, stale.Put(kTenantA, "four", "v").code());
}

TEST_F(SecretEnvelope, RotationWithAWrongOldKeyRefusesAndChangesNothing) {
  {
    SodiumSecretStore store(db_->url(), Key('a'));
    ASSERT_TRUE(store.Put(kTenantA, "one", "value-one").ok());
  }
  PutLegacy(Key('a'), kTenantB, "old", "legacy");
  const std::string before = Tables();
  auto report = RotateMasterKey(db_->url(), Key('b'), Key('c'));
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(Code::kFailedPrecondition, report.status().code()) << report.status().ToString();
  EXPECT_NE(std::string::npos, report.status().message().find("nothing was changed"));
  EXPECT_EQ(before, Tables());
  // The same key twice is refused too.
  EXPECT_EQ(Code::kInvalidArgument, RotateMasterKey(db_->url(), Key('a'), Key('a')).status().code());
  EXPECT_EQ(before, Tables());
  // A tampered wrapped key makes the whole rotation roll back.
  db_->Exec(
      "UPDATE matih.tenant_data_keys SET wrapped_key = set_byte(wrapped_key, 0, get_byte(wrapped_key, 0) # "
      "1)");
  const std::string tampered = Tables();
  EXPECT_EQ(Code::kFailedPrecondition, RotateMasterKey(db_->url(), Key('a'), Key('c')).status().code());
  EXPECT_EQ(tampered, Tables());
}

TEST_F(SecretEnvelope, RotationMovesPreEnvelopeValuesUnderNewDataKeys) {
  PutLegacy(Key('a'), kTenantA, "old", "legacy-a");
  PutLegacy(Key('a'), kTenantB, "old", "legacy-b");
  {
    SodiumSecretStore store(db_->url(), Key('a'));
    ASSERT_TRUE(store.Put(kTenantB, "new", "fresh-b").ok());
  }
  auto report = RotateMasterKey(db_->url(), Key('a'), Key('c'));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(2, report->legacy_values_migrated);
  EXPECT_EQ(1, report->data_keys_created);
  EXPECT_EQ(2, report->data_keys_rewrapped);
  EXPECT_EQ(0, Count("SELECT count(*) FROM matih.tenant_secrets WHERE sealed_by = 'master'"));
  SodiumSecretStore renewed(db_->url(), Key('c'));
  EXPECT_EQ("legacy-a", *renewed.Get(kTenantA, "old"));
  EXPECT_EQ("legacy-b", *renewed.Get(kTenantB, "old"));
  EXPECT_EQ("fresh-b", *renewed.Get(kTenantB, "new"));
}

TEST_F(SecretEnvelope, ConcurrentPutsAndDeletesNeverLoseAKeyUnderAValue) {
  // Two stores (two connections) write and delete the same tenant's secrets at once: whatever
  // interleaving, every value left must open (no data key destroyed under a live value).
  SodiumSecretStore first(db_->url(), Key('a')), second(db_->url(), Key('a'));
  auto work = [](SodiumSecretStore* store, const std::string& prefix) {
    for (int i = 0; i < 25; ++i) {
      const std::string name = prefix + std::to_string(i % 3);
      EXPECT_TRUE(store->Put(kTenantA, name, "v" + name).ok());
      if (i % 2) {
        EXPECT_TRUE(store->Delete(kTenantA, name).ok());
      }
    }
  };
  std::thread t1(work, &first, "p"), t2(work, &second, "q");
  t1.join();
  t2.join();
  pqxx::connection c(db_->url());
  pqxx::nontransaction tx(c);
  for (const auto& row : tx.exec("SELECT name FROM matih.tenant_secrets")) {
    auto got = first.Get(kTenantA, row[0].c_str());
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(std::string("v") + row[0].c_str(), *got);
  }
  EXPECT_LE(Count("SELECT count(*) FROM matih.tenant_data_keys"), 1);
}

}  // namespace
}  // namespace matih::runner
