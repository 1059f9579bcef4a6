// <matih/testing.hpp>, the in-memory host for plugin authors, checked against the same test
// plugins the runner's PluginHost tests use: it must hand a plugin what the runner hands it,
// keep secret namespaces and sharing as the runner does, redact and refuse leaks, normalise
// broken answers, load a 1.0 plugin, and refuse what the runner refuses.
#include <gtest/gtest.h>

#include <chrono>
#include <matih/testing.hpp>
#include <stdexcept>
#include <string>

#include "plugin_test_support.h"

namespace matih::testing {
namespace {

std::string So(const std::string& dir, const std::string& file) {
  return TestPluginDir(dir) + "/" + file + ".so";
}
Host Probe() { return Host::Load(So("probe", "sdk_tp_probe")); }

TEST(TestingHost, HandsThePluginWhatItWasToldAndCapturesTheLog) {
  Host host = Probe();
  EXPECT_EQ(host.plugin_name(), "probe");
  host.tenant("acme", "enterprise", "3f8a9c1e-5b7d-4e2f-9a6c-0d1e2f3a4b5c")
      .spec_json(R"({"admin_email":"ops@acme.example"})")
      .step("echo-step")
      .params(R"({"size":3})")
      .run_id("run-7")
      .setting("test.setting", "from-targets")
      .output("earlier-step", "key", "earlier-value")
      .output("echo-step", "previous", "from-last-run")
      .deadline(std::chrono::system_clock::time_point(std::chrono::milliseconds(1'900'000'000'000)));
  Answer a = host.apply("test.echo");
  ASSERT_TRUE(a.ok()) << a.describe();
  EXPECT_EQ(a.outputs.at("tenant_id"), "3f8a9c1e-5b7d-4e2f-9a6c-0d1e2f3a4b5c");
  EXPECT_EQ(a.outputs.at("slug"), "acme");
  EXPECT_EQ(a.outputs.at("tier"), "enterprise");
  EXPECT_EQ(a.outputs.at("spec"), R"({"admin_email":"ops@acme.example"})");
  EXPECT_EQ(a.outputs.at("step"), "echo-step");
  EXPECT_EQ(a.outputs.at("params"), R"({"size":3})");
  EXPECT_EQ(a.outputs.at("run"), "run-7");
  EXPECT_EQ(a.outputs.at("setting"), "from-targets");
  EXPECT_EQ(a.outputs.at("missing_setting"), "<none>");
  EXPECT_EQ(a.outputs.at("earlier"), "earlier-value");
  EXPECT_EQ(a.outputs.at("own_previous"), "from-last-run");
  EXPECT_EQ(a.outputs.at("roundtrip"), "set in this call");
  EXPECT_EQ(a.outputs.at("deadline_ms"), "1900000000000");
  EXPECT_EQ(a.outputs.at("dry_run"), "no");
  EXPECT_EQ(a.outputs.at("cancelled"), "no");
  EXPECT_EQ(a.outputs.at("extension"), "none");
  EXPECT_TRUE(host.logged("echo applied (probe.cc:42)"));
  EXPECT_EQ(host.outputs("echo-step").at("slug"), "acme") << "a successful apply's outputs are recorded";

  Answer drift = host.observe("test.echo");
  EXPECT_TRUE(drift.drifted());
  EXPECT_EQ(drift.message, "tenant acme differs");
}

TEST(TestingHost, KeepsThePluginsSecretsInItsOwnNamespacePerTenant) {
  Host host = Probe();
  host.setting("test.secret_value", "s3cret-value");
  // Another plugin's secret of the same name is not this plugin's.
  host.foreign_secret("peer", "db-password", "peer-value");
  EXPECT_TRUE(host.observe("test.secret_put").absent());
  ASSERT_TRUE(host.apply("test.secret_put").ok());
  EXPECT_EQ(host.secret("db-password"), "s3cret-value");
  EXPECT_EQ(host.secret_count(), 2u);
  EXPECT_TRUE(host.observe("test.secret_put").in_sync());
  EXPECT_TRUE(host.apply("test.secret_check").ok());
  EXPECT_EQ(host.outputs().at("matches"), "yes");

  host.tenant("other");
  EXPECT_TRUE(host.observe("test.secret_put").absent()) << "tenants share a secret";
  // The store name is "<plugin name>/<name>", as in the runner's store.
  host.foreign_secret("probe", "db-password", "seeded");
  EXPECT_TRUE(host.observe("test.secret_put").in_sync());
  EXPECT_EQ(host.secret("db-password"), "seeded");
  host.tenant("acme");

  ASSERT_TRUE(host.apply("test.secret_delete").ok());
  EXPECT_FALSE(host.secret("db-password"));
  EXPECT_TRUE(host.observe("test.secret_delete").in_sync());
}

TEST(TestingHost, AStoreErrorIsAnErrorNeverAbsent) {
  Host host = Probe();
  host.fail_secret_store(MATIH_STATUS_UNAVAILABLE);
  Answer a = host.observe("test.secret_put");
  EXPECT_EQ(a.status, MATIH_STATUS_UNAVAILABLE) << a.describe();
  EXPECT_TRUE(a.transient());
  EXPECT_NE(a.message.find("not treated as absent"), std::string::npos) << a.message;
}

TEST(TestingHost, RedactsSecretsFromLogsAndMessagesAndRefusesThemAsOutputs) {
  Host host = Probe();
  host.setting("test.secret_value", "s3cret-value");
  ASSERT_TRUE(host.apply("test.secret_put").ok());
  Answer a = host.apply("test.secret_leak");
  EXPECT_EQ(a.status, MATIH_STATUS_FAILED_PRECONDITION);
  EXPECT_EQ(a.message, "could not use password [redacted]");
  EXPECT_TRUE(a.outputs.empty());
  EXPECT_TRUE(host.logged("the password is [redacted]"));
  EXPECT_TRUE(host.logged("refused output 'password'"));
  for (const auto& line : host.logs())
    EXPECT_EQ(line.text.find("s3cret-value"), std::string::npos) << line.text;
}

TEST(TestingHost, SharedSecretsFollowTheOwnersSharesAndSecretSettingsAreRedacted) {
  Host host = Host::Load(So("peer", "sdk_tp_peer"));
  EXPECT_EQ(host.declared_settings(), (std::vector<std::string>{"peer.url", "peer.token", "peer.limit.*"}));
  host.foreign_secret("probe", "shared/token", "shared-token-value")
      .foreign_secret("probe", "private/token", "private-token-value")
      .share("probe", "shared/*")
      .setting("peer.token", "peer-credential");
  Answer a = host.apply("test.peer_read");
  ASSERT_TRUE(a.ok()) << a.describe();
  EXPECT_EQ(a.outputs.at("own"), "absent");
  EXPECT_EQ(a.outputs.at("shared"), "equals");
  EXPECT_EQ(a.outputs.at("private"), "error:" + std::to_string(MATIH_STATUS_PERMISSION_DENIED));
  EXPECT_TRUE(host.logged("peer token is [redacted]"));
  EXPECT_TRUE(host.logged("plugin probe does not share secret 'private/token'"));

  host.lease_epoch(42);
  EXPECT_EQ(host.apply("test.peer_epoch").outputs.at("lease_epoch"), "42");
}

TEST(TestingHost, CancellationDryRunAndParamsAsInTheRunner) {
  Host host = Probe();
  EXPECT_EQ(host.apply("test.wait_cancel").outputs.at("finished"), "yes");
  host.cancel();
  EXPECT_EQ(host.apply("test.wait_cancel").status, MATIH_STATUS_CANCELLED);
  host.cancel(false);

  host.dry_run();
  Answer refused = host.apply("test.secret_put");
  EXPECT_EQ(refused.status, MATIH_STATUS_FAILED_PRECONDITION);
  EXPECT_NE(refused.message.find("refused in a dry run"), std::string::npos);
  host.dry_run(false);

  Answer bad = host.validate_params("test.validated", "{}");
  EXPECT_EQ(bad.status, MATIH_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(bad.message, "params need a size");
  EXPECT_TRUE(host.validate_params("test.validated", R"({"size":1})").ok());
  EXPECT_THROW(host.observe("no.such.kind"), std::runtime_error);
}

TEST(TestingHost, NormalisesAnswersThatBreakTheRules) {
  Host host = Host::Load(So("misbehaving", "sdk_tp_misbehaving"));
  Answer unknown = host.observe("bad.unknown_status");
  EXPECT_EQ(unknown.status, MATIH_STATUS_INTERNAL);
  EXPECT_NE(unknown.message.find("999"), std::string::npos) << unknown.message;
  Answer wrong = host.apply("bad.unknown_status");
  EXPECT_EQ(wrong.status, MATIH_STATUS_INTERNAL);
  EXPECT_NE(wrong.message.find("answered IN_SYNC (1) from apply"), std::string::npos) << wrong.message;
  Answer silent = host.remove("bad.unknown_status");
  EXPECT_EQ(silent.status, MATIH_STATUS_UNAVAILABLE);
  EXPECT_NE(silent.message.find("no message"), std::string::npos) << silent.message;
  Answer thrown = host.observe("bad.throws_raw");
  EXPECT_EQ(thrown.status, MATIH_STATUS_INTERNAL);
  EXPECT_NE(thrown.message.find("let an exception escape from observe"), std::string::npos);
  Answer half = host.apply("bad.throws_raw");
  EXPECT_EQ(half.status, MATIH_STATUS_FAILED_PRECONDITION);
  EXPECT_TRUE(half.outputs.empty()) << "a failed call's outputs are dropped";
  EXPECT_TRUE(host.outputs().empty());
  Answer drift = host.observe("bad.silent_drift");
  EXPECT_TRUE(drift.drifted());
  EXPECT_NE(drift.message.find("gave no diff"), std::string::npos);
}

TEST(TestingHost, LoadsAPluginBuiltAgainstAbi1_0WithTheLegacyNamespace) {
  Host host = Host::Load(So("compat_v1_0", "sdk_tp_compat_v1_0"));
  EXPECT_EQ(host.kinds(), (std::vector<std::string>{"compat.marker", "compat.tier"}));
  EXPECT_TRUE(host.declared_settings().empty());
  EXPECT_TRUE(host.validate_params("compat.marker", "{}").ok()) << "1.0 kinds have no validate_params";
  EXPECT_TRUE(host.observe("compat.marker").absent());
  Answer a = host.apply("compat.marker");
  ASSERT_TRUE(a.ok()) << a.describe();
  EXPECT_EQ(a.outputs.at("slug"), "acme");
  EXPECT_TRUE(host.observe("compat.marker").in_sync()) << "the recorded output must reach the next observe";
  EXPECT_TRUE(host.remove("compat.marker").ok());
  EXPECT_TRUE(host.observe("compat.marker").absent()) << "remove clears the step's recorded outputs";
  EXPECT_EQ(host.tenant("beta", "free").apply("compat.tier").outputs.at("tier"), "free");
}

TEST(TestingHost, RefusesWhatTheRunnerRefuses) {
  try {
    Host::Load(So("abi_major_2", "sdk_tp_abi_major_2"));
    FAIL() << "an ABI 2 plugin was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("step ABI 2."), std::string::npos) << e.what();
  }
  EXPECT_THROW(Host::Load(So("null_table", "sdk_tp_null_table")), std::runtime_error);
  EXPECT_THROW(Host::Load(So("no_export", "sdk_tp_no_export")), std::runtime_error);
  EXPECT_THROW(Host::Load("/nonexistent/plugin.so"), std::runtime_error);
}

}  // namespace
}  // namespace matih::testing
