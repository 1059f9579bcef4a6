#include "secrets_test_support.h"

#include <gtest/gtest.h>

#include <string>

#include "store/migrations.h"

namespace matih::testing {

std::unique_ptr<TestDatabase> CreateSecretsDatabase() {
  auto db = TestDatabase::Create();
  int applied = 0;
  for (const runner::Migration& m : runner::EmbeddedMigrations()) {
    if (m.name == "0002_secrets" || m.name == "0003_secret_envelope") {
      db->Exec(m.sql);
      ++applied;
    }
  }
  EXPECT_EQ(applied, 2) << "migrations 0002_secrets and 0003_secret_envelope are not embedded in the runner";
  return db;
}

runner::SecretKey TestKey(std::uint8_t fill) {
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (int i = 0; i < 32; ++i) {
    hex.push_back(kHex[fill >> 4]);
    hex.push_back(kHex[fill & 0xf]);
  }
  auto key = runner::SecretKey::FromHex(hex, "a test");
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return std::move(key).value();
}

}  // namespace matih::testing
