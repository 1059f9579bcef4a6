// The built-in secret store on the real PostgreSQL of the local stack.
#include "secrets/sodium_secret_store.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "secrets_test_support.h"
#include "support/stack_env.h"

namespace matih::runner {
namespace {

using matih::testing::CreateSecretsDatabase;
using matih::testing::TestKey;

const std::string kTenantA = "6f1d7c52-4b8e-4f7a-9a51-1d2c3b4a5e60";
const std::string kTenantB = "0b9e2a11-8c3d-4e5f-a6b7-c8d9e0f1a2b3";
const std::string kValue = "correct-horse-battery-staple-41";

// Every row of the secrets table as text, all columns, bytea in PostgreSQL's hex output.
std::string RawTable(const std::string& url) {
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  std::string all;
  for (const auto& row : tx.exec("SELECT t::text FROM matih.tenant_secrets t")) all += row[0].c_str();
  return all;
}

std::string Hex(const std::string& s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

TEST(SodiumSecretStore, PutThenGetReturnsTheValue) {
  auto db = CreateSecretsDatabase();
  SodiumSecretStore store(db->url(), TestKey(7));
  ASSERT_TRUE(store.Put(kTenantA, "db-password", kValue).ok());
  auto got = store.Get(kTenantA, "db-password");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, kValue);
}

TEST(SodiumSecretStore, PutReplacesAnExistingValue) {
  auto db = CreateSecretsDatabase();
  SodiumSecretStore store(db->url(), TestKey(7));
  ASSERT_TRUE(store.Put(kTenantA, "api-key", "first").ok());
  ASSERT_TRUE(store.Put(kTenantA, "api-key", "second").ok());
  EXPECT_EQ(*store.Get(kTenantA, "api-key"), "second");
}

TEST(SodiumSecretStore, EmptyAndBinaryValuesRoundTrip) {
  auto db = CreateSecretsDatabase();
  SodiumSecretStore store(db->url(), TestKey(7));
  const std::string binary("\0\x01\xff\x7f zero inside", 16);
  ASSERT_TRUE(store.Put(kTenantA, "empty", "").ok());
  ASSERT_TRUE(store.Put(kTenantA, "binary", binary).ok());
  EXPECT_EQ(*store.Get(kTenantA, "empty"), "");
  EXPECT_EQ(*store.Get(kTenantA, "binary"), binary);
}

TEST(SodiumSecretStore, GetOfAnUnknownNameIsNotFound) {
  auto db = CreateSecretsDatabase();
  SodiumSecretStore store(db->url(), TestKey(7));
  auto got = store.Get(kTenantA, "nothing-here");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kNotFound);
}

TEST(SodiumSecretStore, TenantsDoNotSeeEachOthersSecrets) {
  auto db = CreateSecretsDatabase();
  SodiumSecretStore store(db->url(), TestKey(7));
  ASSERT_TRUE(store.Put(kTenantA, "db-password", "value-of-a").ok());
  EXPECT_EQ(store.Get(kTenantB, "db-password").status().code(), Code::kNotFound);
  ASSERT_TRUE(store.Put(kTenantB, "db-password", "value-of-b").ok());
  EXPECT_EQ(*store.Get(kTenantA, "db-password"), "value-of-a");
  EXPECT_EQ(*store.Get(kTenantB, "db-password"), "value-of-b");
}

TEST(SodiumSecretStore, DeleteAllRemovesOnlyThatTenantsSecrets) {
  auto db = CreateSecretsDatabase();
  SodiumSecretStore store(db->url(), TestKey(7));
  ASSERT_TRUE(store.Put(kTenantA, "one", "1111").ok());
  ASSERT_TRUE(store.Put(kTenantA, "two", "2222").ok());
  ASSERT_TRUE(store.Put(kTenantB, "one", "3333").ok());
  ASSERT_TRUE(store.DeleteAll(kTenantA).ok());
  EXPECT_EQ(store.Get(kTenantA, "one").status().code(), Code::kNotFound);
  EXPECT_EQ(store.Get(kTenantA, "two").status().code(), Code::kNotFound);
  EXPECT_EQ(*store.Get(kTenantB, "one"), "3333");
  EXPECT_TRUE(store.DeleteAll(kTenantA).ok()) << "deleting nothing is fine";
}

TEST(SodiumSecretStore, ValueIsNeverStoredInPlaintext) {
  auto db = CreateSecretsDatabase();
  SodiumSecretStore store(db->url(), TestKey(7));
  ASSERT_TRUE(store.Put(kTenantA, "db-password", kValue).ok());
  const std::string raw = RawTable(db->url());
  ASSERT_NE(raw.find("db-password"), std::string::npos) << "the row should be there: " << raw;
  EXPECT_EQ(raw.find(kValue), std::string::npos) << raw;
  EXPECT_EQ(raw.find(Hex(kValue)), std::string::npos) << raw;
  EXPECT_EQ(raw.find(Hex(kValue.substr(0, 8))), std::string::npos) << raw;
}

TEST(SodiumSecretStore, SameValueEncryptsDifferentlyEachTime) {
  auto db = CreateSecretsDatabase();
  SodiumSecretStore store(db->url(), TestKey(7));
  ASSERT_TRUE(store.Put(kTenantA, "x", kValue).ok());
  ASSERT_TRUE(store.Put(kTenantB, "x", kValue).ok());
  pqxx::connection c(db->url());
  pqxx::nontransaction tx(c);
  auto rows = tx.exec("SELECT nonce, ciphertext FROM matih.tenant_secrets ORDER BY tenant_id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_NE(rows[0][0].as<std::string>(), rows[1][0].as<std::string>());
  EXPECT_NE(rows[0][1].as<std::string>(), rows[1][1].as<std::string>());
}

TEST(SodiumSecretStore, CiphertextMovedToAnotherRowDoesNotOpen) {
  auto db = CreateSecretsDatabase();
  SodiumSecretStore store(db->url(), TestKey(7));
  ASSERT_TRUE(store.Put(kTenantA, "db-password", kValue).ok());
  ASSERT_TRUE(store.Put(kTenantB, "db-password", "tenant-b-own-value").ok());
  ASSERT_TRUE(store.Put(kTenantA, "other-name", "tenant-a-other-value").ok());
  // Copy tenant A's sealed password over tenant B's row, and over another name of tenant A.
  db->Exec(
      "UPDATE matih.tenant_secrets d SET nonce = s.nonce, ciphertext = s.ciphertext "
      "FROM matih.tenant_secrets s WHERE s.tenant_id = '" +
      kTenantA +
      "' AND s.name = 'db-password' "
      "AND ((d.tenant_id = '" +
      kTenantB +
      "' AND d.name = 'db-password') OR "
      "(d.tenant_id = '" +
      kTenantA + "' AND d.name = 'other-name'))");
  for (auto [tenant, name] : {std::pair{kTenantB, "db-password"}, std::pair{kTenantA, "other-name"}}) {
    auto got = store.Get(tenant, name);
    ASSERT_FALSE(got.ok()) << "a moved ciphertext opened for " << tenant << "/" << name;
    EXPECT_NE(got.status().message().find("does not authenticate"), std::string::npos)
        << got.status().ToString();
    EXPECT_EQ(got.status().message().find(kValue), std::string::npos);
  }
  EXPECT_EQ(*store.Get(kTenantA, "db-password"), kValue) << "the original row still opens";
}

TEST(SodiumSecretStore, AnotherKeyIsReportedAsSuchWithoutRevealingAnything) {
  auto db = CreateSecretsDatabase();
  ASSERT_TRUE(SodiumSecretStore(db->url(), TestKey(7)).Put(kTenantA, "db-password", kValue).ok());
  SodiumSecretStore other(db->url(), TestKey(8));
  auto got = other.Get(kTenantA, "db-password");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(got.status().message().find("another key"), std::string::npos) << got.status().ToString();
  EXPECT_EQ(got.status().message().find(kValue), std::string::npos);
}

TEST(SodiumSecretStore, UnreachableDatabaseIsUnavailable) {
  // A port nobody listens on: the stack's PostgreSQL port + 150 is outside every service offset.
  const int port = std::stoi(matih::testing::StackEnv::Require("MATIH_PG_PORT")) + 150;
  SodiumSecretStore store(
      "postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/none?connect_timeout=2", TestKey(7));
  Status put = store.Put(kTenantA, "db-password", kValue);
  EXPECT_EQ(put.code(), Code::kUnavailable) << put.ToString();
  EXPECT_TRUE(put.retryable());
  EXPECT_EQ(put.message().find(kValue), std::string::npos);
  EXPECT_EQ(store.Get(kTenantA, "db-password").status().code(), Code::kUnavailable);
}

TEST(SodiumSecretStore, MissingTableSaysWhichMigrationToApply) {
  auto db = matih::testing::TestDatabase::Create();  // no migration
  SodiumSecretStore store(db->url(), TestKey(7));
  Status put = store.Put(kTenantA, "db-password", kValue);
  EXPECT_EQ(put.code(), Code::kFailedPrecondition) << put.ToString();
  EXPECT_NE(put.message().find("0002_secrets"), std::string::npos) << put.ToString();
}

TEST(SodiumSecretStore, ReconnectsAfterItsConnectionIsKilled) {
  auto db = CreateSecretsDatabase();
  SodiumSecretStore store(db->url(), TestKey(7));
  ASSERT_TRUE(store.Put(kTenantA, "db-password", kValue).ok());
  db->Exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  // The first call may notice the broken connection (Unavailable: retryable); the next works.
  auto first = store.Get(kTenantA, "db-password");
  if (!first.ok()) {
    EXPECT_EQ(first.status().code(), Code::kUnavailable) << first.status().ToString();
  }
  auto second = store.Get(kTenantA, "db-password");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, kValue);
}

TEST(SodiumSecretStore, RefusesEmptyNamesAndOversizedValues) {
  auto db = CreateSecretsDatabase();
  SodiumSecretStore store(db->url(), TestKey(7));
  EXPECT_EQ(store.Put("", "x", "v").code(), Code::kInvalidArgument);
  EXPECT_EQ(store.Put(kTenantA, "", "v").code(), Code::kInvalidArgument);
  EXPECT_EQ(store.Put(kTenantA, "big", std::string(64 * 1024 + 1, 'x')).code(), Code::kInvalidArgument);
}

TEST(SodiumSecretStore, ConcurrentCallsFromManyThreadsAllLand) {
  auto db = CreateSecretsDatabase();
  SodiumSecretStore store(db->url(), TestKey(7));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 10; ++i) {
        const std::string name = "s" + std::to_string(t) + "-" + std::to_string(i);
        EXPECT_TRUE(store.Put(kTenantA, name, "v" + name).ok());
        EXPECT_EQ(*store.Get(kTenantA, name), "v" + name);
      }
    });
  }
  for (auto& th : threads) th.join();
  pqxx::connection c(db->url());
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM matih.tenant_secrets")[0].as<int>(), 40);
}

}  // namespace
}  // namespace matih::runner
