// Secrets end to end: plugins store and read them through the host, the built-in store keeps
// them encrypted in PostgreSQL, and the value shows up in no log line, output or message.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "plugin_test_support.h"
#include "secrets/sodium_secret_store.h"
#include "secrets_test_support.h"
#include "telemetry/logger.h"

namespace matih::runner {
namespace {

using matih::testing::LoadPlugins;
using matih::testing::TestCall;
using matih::testing::TestPluginDir;

const std::string kSecret = "s3cr3t-Value-7f9c2e1b";

class PluginSecrets : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = matih::testing::CreateSecretsDatabase();
    store_ = std::make_unique<SodiumSecretStore>(db_->url(), matih::testing::TestKey(3));
    host_ = LoadPlugins({TestPluginDir("probe")});
    ASSERT_TRUE(host_);
    settings_ = {{"test.secret_value", kSecret}};
  }
  StepCall Call(const std::string& step) {
    StepCall call = TestCall(step);
    call.secrets = store_.get();
    call.settings = &settings_;
    return call;
  }
  StepAnswer Apply(const std::string& kind, const std::string& step) {
    return host_->Find(kind)->Apply(Call(step));
  }

  std::unique_ptr<matih::testing::TestDatabase> db_;
  std::unique_ptr<SodiumSecretStore> store_;
  std::unique_ptr<PluginHost> host_;
  std::map<std::string, std::string> settings_;
};

TEST_F(PluginSecrets, ValuePutByOneStepIsReadByALaterStep) {
  StepAnswer put = Apply("test.secret_put", "store-tenant-secrets");
  ASSERT_EQ(put.status, MATIH_STATUS_OK) << put.message;
  StepAnswer check = Apply("test.secret_check", "provision-database");
  ASSERT_EQ(check.status, MATIH_STATUS_OK) << check.message;
  EXPECT_EQ(check.outputs.at("matches"), "yes");
  EXPECT_EQ(host_->Find("test.secret_put")->Observe(Call("store-tenant-secrets")).status,
            MATIH_STATUS_IN_SYNC);
}

TEST_F(PluginSecrets, ValueIsEncryptedAtRest) {
  ASSERT_EQ(Apply("test.secret_put", "store-tenant-secrets").status, MATIH_STATUS_OK);
  pqxx::connection c(db_->url());
  pqxx::nontransaction tx(c);
  auto rows =
      tx.exec("SELECT tenant_id, name, t::text, encode(ciphertext, 'escape') FROM matih.tenant_secrets t");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].as<std::string>(), TestCall("x").tenant.id);
  EXPECT_EQ(rows[0][1].as<std::string>(), "probe/db-password") << "kept in the plugin's own namespace";
  EXPECT_EQ(rows[0][2].as<std::string>().find(kSecret), std::string::npos);
  EXPECT_EQ(rows[0][3].as<std::string>().find(kSecret), std::string::npos);
}

TEST_F(PluginSecrets, ValueAppearsInNoLogLineOutputOrMessage) {
  Logger::Configure(LogFormat::kText, spdlog::level::trace);
  ::testing::internal::CaptureStderr();
  std::vector<StepAnswer> answers;
  answers.push_back(Apply("test.secret_put", "store-tenant-secrets"));
  answers.push_back(Apply("test.secret_check", "provision-database"));
  answers.push_back(Apply("test.secret_leak", "leaky-step"));
  const std::string logs = ::testing::internal::GetCapturedStderr();
  Logger::Configure(LogFormat::kText, spdlog::level::info);

  EXPECT_EQ(answers[0].status, MATIH_STATUS_OK);
  EXPECT_EQ(answers[1].status, MATIH_STATUS_OK);
  EXPECT_EQ(answers[2].status, MATIH_STATUS_FAILED_PRECONDITION) << "the leaky step throws at the end";

  // The leaky step tried: the host redacted its log lines and message, and refused its output.
  EXPECT_NE(logs.find("[test.secret_leak] the password is [redacted]"), std::string::npos) << logs;
  EXPECT_NE(logs.find("refused output 'password'"), std::string::npos) << logs;
  EXPECT_EQ(answers[2].message, "could not use password [redacted]");

  EXPECT_EQ(logs.find(kSecret), std::string::npos) << logs;
  for (const StepAnswer& a : answers) {
    EXPECT_EQ(a.message.find(kSecret), std::string::npos) << a.message;
    for (const auto& [key, value] : a.outputs) EXPECT_EQ(value.find(kSecret), std::string::npos) << key;
  }
}

TEST_F(PluginSecrets, JsonLogLinesAreRedactedToo) {
  Logger::Configure(LogFormat::kJson, spdlog::level::info);
  ::testing::internal::CaptureStderr();
  Apply("test.secret_put", "store-tenant-secrets");
  Apply("test.secret_leak", "leaky-step");
  const std::string logs = ::testing::internal::GetCapturedStderr();
  Logger::Configure(LogFormat::kText, spdlog::level::info);
  EXPECT_NE(logs.find("\"tenant\":\"acme\""), std::string::npos) << logs;
  EXPECT_NE(logs.find("[redacted]"), std::string::npos) << logs;
  EXPECT_EQ(logs.find(kSecret), std::string::npos) << logs;
}

TEST_F(PluginSecrets, SecretOfOneTenantIsNotFoundForAnother) {
  ASSERT_EQ(Apply("test.secret_put", "store-tenant-secrets").status, MATIH_STATUS_OK);
  StepCall other = Call("provision-database");
  other.tenant.id = "99999999-8888-4777-a666-555555555555";
  other.tenant.slug = "globex";
  StepAnswer check = host_->Find("test.secret_check")->Apply(other);
  EXPECT_EQ(check.status, MATIH_STATUS_NOT_FOUND) << check.message;
}

}  // namespace
}  // namespace matih::runner
