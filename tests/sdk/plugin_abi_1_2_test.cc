// Step ABI 1.2 end to end: each plugin's secrets live in a namespace of its own, a plugin reads
// another's secret only where the owner shares it, secrets can be deleted, the lease epoch
// reaches the plugin, and declared settings let the host refuse unknown [targets] keys while a
// plugin too old to declare its settings keeps working.
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

const std::string kPassword = "probe-password-1f2e3d";
const std::string kPeerToken = "peer-token-9a8b7c6d";

class PluginAbi12 : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = matih::testing::CreateSecretsDatabase();
    store_ = std::make_unique<SodiumSecretStore>(db_->url(), matih::testing::TestKey(5));
    host_ = LoadPlugins({TestPluginDir("probe"), TestPluginDir("peer")});
    ASSERT_TRUE(host_);
    settings_ = {{"test.secret_value", kPassword}, {"peer.token", kPeerToken}};
  }
  StepCall Call(const std::string& step) {
    StepCall call = TestCall(step);
    call.secrets = store_.get();
    call.settings = &settings_;
    return call;
  }
  StepAnswer Apply(const std::string& kind) { return host_->Find(kind)->Apply(Call(kind)); }
  std::vector<std::string> StoredNames() {
    pqxx::connection c(db_->url());
    pqxx::nontransaction tx(c);
    std::vector<std::string> names;
    for (const auto& row : tx.exec("SELECT name FROM matih.tenant_secrets ORDER BY name"))
      names.push_back(row[0].as<std::string>());
    return names;
  }
  const LoadedPluginInfo& Info(const std::string& name) {
    for (const auto& p : host_->plugins())
      if (p.name == name) return p;
    throw std::runtime_error("no plugin " + name);
  }

  std::unique_ptr<matih::testing::TestDatabase> db_;
  std::unique_ptr<SodiumSecretStore> store_;
  std::unique_ptr<PluginHost> host_;
  std::map<std::string, std::string> settings_;
};

TEST_F(PluginAbi12, SameSecretNameOfTwoPluginsNeverMeets) {
  ASSERT_EQ(Apply("test.secret_put").status, MATIH_STATUS_OK);
  StepAnswer read = Apply("test.peer_read");
  ASSERT_EQ(read.status, MATIH_STATUS_OK) << read.message;
  EXPECT_EQ(read.outputs.at("own"), "absent") << "peer read probe's db-password through its own name";
  EXPECT_EQ(StoredNames(), std::vector<std::string>{"probe/db-password"});
}

TEST_F(PluginAbi12, SharedSecretIsReadableAndUnsharedOneIsRefused) {
  ASSERT_EQ(Apply("test.secret_share").status, MATIH_STATUS_OK);
  StepAnswer read = Apply("test.peer_read");
  ASSERT_EQ(read.status, MATIH_STATUS_OK) << read.message;
  EXPECT_EQ(read.outputs.at("shared"), "equals");
  EXPECT_EQ(read.outputs.at("private"), "error:" + std::to_string(MATIH_STATUS_PERMISSION_DENIED));
  EXPECT_EQ(Info("probe").shared_secrets, std::vector<std::string>{"shared/*"});
}

TEST_F(PluginAbi12, DeleteRemovesTheSecretAndIsFineWhenAbsent) {
  ASSERT_EQ(Apply("test.secret_put").status, MATIH_STATUS_OK);
  EXPECT_EQ(host_->Find("test.secret_delete")->Observe(Call("d")).status, MATIH_STATUS_DRIFTED);
  ASSERT_EQ(Apply("test.secret_delete").status, MATIH_STATUS_OK);
  EXPECT_TRUE(StoredNames().empty());
  EXPECT_EQ(host_->Find("test.secret_delete")->Observe(Call("d")).status, MATIH_STATUS_IN_SYNC);
  EXPECT_EQ(Apply("test.secret_delete").status, MATIH_STATUS_OK) << "deleting an absent secret is fine";
}

TEST_F(PluginAbi12, RemoveDeletesOnlyThePluginsOwnSecrets) {
  ASSERT_EQ(Apply("test.secret_put").status, MATIH_STATUS_OK);
  ASSERT_EQ(Apply("test.secret_share").status, MATIH_STATUS_OK);
  ASSERT_EQ(host_->Find("test.secret_share")->Remove(Call("test.secret_share")).status, MATIH_STATUS_OK);
  EXPECT_EQ(StoredNames(), std::vector<std::string>{"probe/db-password"});
}

TEST_F(PluginAbi12, LeaseEpochReachesThePlugin) {
  StepCall call = Call("test.peer_epoch");
  call.lease_epoch = 42;
  StepAnswer answer = host_->Find("test.peer_epoch")->Apply(call);
  ASSERT_EQ(answer.status, MATIH_STATUS_OK) << answer.message;
  EXPECT_EQ(answer.outputs.at("lease_epoch"), "42");
  EXPECT_EQ(Apply("test.peer_epoch").outputs.at("lease_epoch"), "0") << "no lease: 0";
}

TEST_F(PluginAbi12, SecretSettingIsRedactedFromLogLines) {
  Logger::Configure(LogFormat::kText, spdlog::level::info);
  ::testing::internal::CaptureStderr();
  StepAnswer read = Apply("test.peer_read");
  const std::string logs = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(read.status, MATIH_STATUS_OK) << read.message;
  EXPECT_NE(logs.find("peer token is [redacted]"), std::string::npos) << logs;
  EXPECT_EQ(logs.find(kPeerToken), std::string::npos) << logs;
}

TEST_F(PluginAbi12, DeclaredSettingsAreListed) {
  const LoadedPluginInfo& peer = Info("peer");
  EXPECT_TRUE(peer.declares_settings);
  ASSERT_EQ(peer.settings.size(), 3u);
  EXPECT_EQ(peer.settings[0].name, "peer.url");
  EXPECT_TRUE(peer.settings[0].required);
  EXPECT_FALSE(peer.settings[0].secret);
  EXPECT_EQ(peer.settings[1].name, "peer.token");
  EXPECT_TRUE(peer.settings[1].secret);
}

TEST_F(PluginAbi12, UnknownSettingIsRefusedNamingIt) {
  std::vector<std::string> warnings;
  Status ok = host_->CheckSettings({{"peer.url", "x"}, {"peer.limit.free", "3"}, {"runner.own", "y"}},
                                   {"runner.own"}, &warnings);
  // probe declares nothing, but it is a 1.2 plugin: declaring nothing is a declaration.
  EXPECT_TRUE(ok.ok()) << ok.ToString();
  EXPECT_TRUE(warnings.empty());
  Status bad =
      host_->CheckSettings({{"peer.url", "x"}, {"peer.urll", "x"}, {"peer.limit", "3"}}, {}, &warnings);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.code(), Code::kInvalidArgument);
  EXPECT_NE(bad.message().find("targets.peer.urll"), std::string::npos) << bad.message();
  EXPECT_NE(bad.message().find("targets.peer.limit,"), std::string::npos)
      << "a family 'peer.limit.*' does not cover 'peer.limit' itself: " << bad.message();
}

TEST(PluginAbi12Legacy, UndeclaredSettingsPassThroughWithAWarningWhenAnOldPluginIsLoaded) {
  auto host = LoadPlugins({TestPluginDir("peer"), TestPluginDir("compat_v1_0")});
  ASSERT_TRUE(host);
  std::vector<std::string> warnings;
  Status s = host->CheckSettings({{"legacy.thing", "1"}}, {}, &warnings);
  EXPECT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("targets.legacy.thing"), std::string::npos) << warnings[0];
}

}  // namespace
}  // namespace matih::runner
