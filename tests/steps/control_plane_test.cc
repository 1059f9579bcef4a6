// Steps 3-6 (control plane): each step converges its rows, a second apply writes nothing, a
// hand-made change is observed as DRIFTED and repaired, remove undoes and can be repeated. Invite
// tokens and API keys are stored hashed, their plaintext only in the secret store and never in
// logs, outputs or messages; the schema belongs to its own least-privileged role.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>

#include "common/secure_token.h"
#include "steps/step_harness.h"

namespace matih::testing {
namespace {

using ::testing::HasSubstr;

const std::vector<std::string> kSteps = {"create-tenant-record", "create-admin-user", "create-default-roles",
                                         "issue-api-keys"};

class ControlPlane : public ::testing::Test {
 protected:
  void SetUp() override { tenant_ = StepHarness::MakeTenant("starter"); }

  void ApplyAll() {
    for (const auto& step : kSteps) {
      auto answer = harness_.Apply(step, tenant_);
      ASSERT_EQ(MATIH_STATUS_OK, answer.status) << step << ": " << answer.message;
    }
  }
  // Every control-plane row of the tenant with its xmin: changes whenever a row is written.
  std::string Snapshot() {
    pqxx::connection c(harness_.database().url());
    pqxx::nontransaction tx(c);
    const std::string id = tx.quote(tenant_.view.id);
    std::string out;
    for (const char* sql :
         {"SELECT xmin, * FROM control_plane.tenants WHERE id = %s",
          "SELECT xmin, * FROM control_plane.users WHERE tenant_id = %s ORDER BY id",
          "SELECT xmin, * FROM control_plane.roles WHERE tenant_id = %s ORDER BY name",
          "SELECT b.xmin, b.* FROM control_plane.role_bindings b JOIN control_plane.roles r "
          "ON r.id = b.role_id WHERE r.tenant_id = %s ORDER BY 2",
          "SELECT xmin, * FROM control_plane.api_keys WHERE tenant_id = %s ORDER BY name"}) {
      std::string q = sql;
      q.replace(q.find("%s"), 2, id);
      for (const auto& row : tx.exec(q)) {
        for (const auto& f : row) out += (f.is_null() ? "NULL" : f.c_str()) + std::string("|");
        out += "\n";
      }
    }
    return out;
  }
  std::string Query1(const std::string& sql) {
    pqxx::connection c(harness_.database().url());
    pqxx::nontransaction tx(c);
    auto f = tx.exec1(sql)[0];
    return f.is_null() ? "NULL" : f.as<std::string>();
  }
  // A secret of the control-plane plugin, in its namespace (step ABI 1.2).
  std::string Secret(const std::string& name) {
    auto value = harness_.secrets().Get(tenant_.view.id, "matih-control-plane/" + name);
    return value.ok() ? value.value() : "";
  }

  StepHarness harness_;
  TestTenant tenant_;
};

TEST_F(ControlPlane, EachStepIsAbsentThenAppliedThenInSync) {
  for (const auto& step : kSteps) {
    SCOPED_TRACE(step);
    auto absent = harness_.Observe(step, tenant_);
    EXPECT_EQ(MATIH_STATUS_ABSENT, absent.status);
    EXPECT_TRUE(absent.outputs.empty()) << "nothing to adopt, no outputs";
    auto answer = harness_.Apply(step, tenant_);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
    auto observed = harness_.Observe(step, tenant_);
    EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
    if (step == "create-default-roles") {
      EXPECT_EQ(answer.outputs, observed.outputs)
          << "adoptable: an in-sync observe reports the apply's outputs";
    }
  }
  EXPECT_EQ(tenant_.view.id, tenant_.outputs["create-tenant-record"]["tenant_record_id"]);
  EXPECT_FALSE(tenant_.outputs["create-admin-user"]["admin_user_id"].empty());
  EXPECT_EQ("Admin,Analyst,Viewer", tenant_.outputs["create-default-roles"]["roles"]);
  EXPECT_EQ("default", tenant_.outputs["issue-api-keys"]["key_names"]);
}

TEST_F(ControlPlane, ObserveAndRemoveOnAFreshDatabaseCreateNothing) {
  for (const auto& step : kSteps) {
    EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(step, tenant_).status) << step;
    EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(step, tenant_).status) << step;
  }
  EXPECT_EQ("0", Query1("SELECT count(*) FROM pg_namespace WHERE nspname = 'control_plane'"));
}

TEST_F(ControlPlane, ApplyingAgainWritesNothing) {
  ApplyAll();
  const std::string before = Snapshot();
  const std::string token = Secret("controlplane/admin-invite-token");
  const std::string key = Secret("controlplane/api-key/default");
  ApplyAll();
  EXPECT_EQ(before, Snapshot());
  EXPECT_EQ(token, Secret("controlplane/admin-invite-token"));
  EXPECT_EQ(key, Secret("controlplane/api-key/default"));
}

TEST_F(ControlPlane, TenantRecordChangedByHandIsDriftedAndRepaired) {
  ApplyAll();
  harness_.database().Exec("UPDATE control_plane.tenants SET tier = 'enterprise', display_name = 'Hacked'");
  auto observed = harness_.Observe("create-tenant-record", tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("tier: have 'enterprise', want 'starter'"))
      << observed.message;
  EXPECT_NE(std::string::npos, observed.message.find("display_name")) << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-tenant-record", tenant_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-tenant-record", tenant_).status);
  EXPECT_EQ("starter", Query1("SELECT tier FROM control_plane.tenants"));
}

TEST_F(ControlPlane, AdminEmailChangedByHandIsRepairedWithAFreshInvite) {
  ApplyAll();
  const std::string token = Secret("controlplane/admin-invite-token");
  harness_.database().Exec("UPDATE control_plane.users SET email = 'intruder@evil.example'");
  auto observed = harness_.Observe("create-admin-user", tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("admin e-mail: have 'intruder@evil.example'"))
      << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-admin-user", tenant_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-admin-user", tenant_).status);
  EXPECT_NE(token, Secret("controlplane/admin-invite-token")) << "the old invite went to the wrong address";
  // The admin stays bound to Admin: the user row was corrected, not replaced.
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-default-roles", tenant_).status);
}

TEST_F(ControlPlane, InviteTokenIsStoredOnlyAsAKeyedHash) {
  ApplyAll();
  const std::string token = Secret("controlplane/admin-invite-token");
  ASSERT_EQ(0u, token.rfind("mti_", 0));
  const std::string row = Query1("SELECT row_to_json(u)::text FROM control_plane.users u");
  EXPECT_EQ(std::string::npos, row.find(token));
  EXPECT_EQ(0u, Query1("SELECT invite_token_hash FROM control_plane.users").rfind("hmac-sha256:", 0));
  EXPECT_EQ("t",
            Query1("SELECT (invite_expires_at > now() + interval '6 days')::text FROM control_plane.users")
                .substr(0, 1));
}

TEST_F(ControlPlane, RolePermissionsChangedByHandAreDriftedAndRepaired) {
  ApplyAll();
  harness_.database().Exec(
      "UPDATE control_plane.roles SET permissions = array_append(permissions, 'billing:manage') WHERE name = "
      "'Viewer'");
  harness_.database().Exec("DELETE FROM control_plane.role_bindings");
  auto observed = harness_.Observe("create-default-roles", tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_TRUE(observed.outputs.empty()) << "a drifted observe reports no outputs";
  EXPECT_NE(std::string::npos, observed.message.find("role Viewer permissions: -billing:manage"))
      << observed.message;
  EXPECT_NE(std::string::npos, observed.message.find("admin user not bound to role Admin"))
      << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-default-roles", tenant_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-default-roles", tenant_).status);
  EXPECT_EQ("{dashboards:read,data:read}",
            Query1("SELECT permissions::text FROM control_plane.roles WHERE name = 'Viewer'"));
}

TEST_F(ControlPlane, ApiKeyHasTheScannableFormatAndIsStoredOnlyAsAHash) {
  ApplyAll();
  const std::string key = Secret("controlplane/api-key/default");
  EXPECT_TRUE(plugins::IsWellFormedApiKey(key)) << "format mtk_ + base62 + checksum";
  EXPECT_EQ(42u, key.size());
  std::string tampered = key;
  tampered[10] = tampered[10] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(plugins::IsWellFormedApiKey(tampered)) << "the checksum catches a changed character";
  const std::string row = Query1("SELECT row_to_json(k)::text FROM control_plane.api_keys k");
  EXPECT_EQ(std::string::npos, row.find(key)) << "the stored form is not the key";
  EXPECT_EQ(std::string::npos, row.find(key.substr(4, 20)));
  const std::string stored_hash = Query1("SELECT key_hash FROM control_plane.api_keys");
  EXPECT_NE(key, stored_hash);
  EXPECT_EQ(key.substr(0, 10), Query1("SELECT key_prefix FROM control_plane.api_keys"));
}

TEST_F(ControlPlane, SecretsNeverReachLogsOutputsOrMessages) {
  ::testing::internal::CaptureStderr();
  std::vector<runner::StepAnswer> answers;
  for (const auto& step : kSteps) {
    answers.push_back(harness_.Observe(step, tenant_));
    answers.push_back(harness_.Apply(step, tenant_));
    answers.push_back(harness_.Observe(step, tenant_));
  }
  harness_.database().Exec("UPDATE control_plane.api_keys SET key_hash = 'hmac-sha256:00'");
  answers.push_back(harness_.Observe("issue-api-keys", tenant_));
  answers.push_back(harness_.Apply("issue-api-keys", tenant_));
  const std::string logs = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(std::string::npos, logs.find("issued 1 API key(s)")) << "the plugin's log lines were captured";
  for (const std::string name : {"controlplane/admin-invite-token", "controlplane/api-key/default"}) {
    const std::string secret = Secret(name);
    ASSERT_FALSE(secret.empty()) << name;
    EXPECT_EQ(std::string::npos, logs.find(secret)) << name << " in the logs";
    EXPECT_EQ(std::string::npos, logs.find(secret.substr(4, 16))) << name << " partly in the logs";
    for (const auto& a : answers) {
      EXPECT_EQ(std::string::npos, a.message.find(secret));
      for (const auto& [k, v] : a.outputs) EXPECT_EQ(std::string::npos, v.find(secret)) << k;
    }
  }
}

TEST_F(ControlPlane, ApiKeyHashTamperedByHandIsDriftedAndApplyRotatesTheKey) {
  ApplyAll();
  const std::string key = Secret("controlplane/api-key/default");
  harness_.database().Exec("UPDATE control_plane.api_keys SET key_hash = 'hmac-sha256:00'");
  auto observed = harness_.Observe("issue-api-keys", tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_EQ("key default stored hash does not match the secret store", observed.message);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("issue-api-keys", tenant_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("issue-api-keys", tenant_).status);
  EXPECT_NE(key, Secret("controlplane/api-key/default"));
}

TEST_F(ControlPlane, ExtraKeyNamesAreIssuedAndStaleOnesRevoked) {
  ApplyAll();
  harness_.SetParams("issue-api-keys", R"({"keys": ["ci", "default"]})");
  auto observed = harness_.Observe("issue-api-keys", tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_EQ("key ci missing", observed.message);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("issue-api-keys", tenant_).status);
  harness_.SetParams("issue-api-keys", R"({"keys": ["ci"]})");
  EXPECT_EQ("stale key default", harness_.Observe("issue-api-keys", tenant_).message);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("issue-api-keys", tenant_).status);
  EXPECT_EQ("ci", Query1("SELECT string_agg(name, ',') FROM control_plane.api_keys"));
}

TEST_F(ControlPlane, RemoveInReverseOrderLeavesNothingAndCanBeRepeated) {
  ApplyAll();
  for (auto it = kSteps.rbegin(); it != kSteps.rend(); ++it) {
    SCOPED_TRACE(*it);
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(*it, tenant_).status);
    EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(*it, tenant_).status);
    EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(*it, tenant_).status);
  }
  for (const char* table : {"tenants", "users", "roles", "role_bindings", "api_keys"})
    EXPECT_EQ("0", Query1(std::string("SELECT count(*) FROM control_plane.") + table)) << table;
}

TEST_F(ControlPlane, AdminUserBeforeTenantRecordIsAFailedPrecondition) {
  auto answer = harness_.Apply("create-admin-user", tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("create-tenant-record must run first")) << answer.message;
}

TEST_F(ControlPlane, SchemaBelongsToALeastPrivilegedRole) {
  ApplyAll();
  EXPECT_EQ("matih_control_plane",
            Query1("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'control_plane'"));
  EXPECT_EQ("0", Query1("SELECT count(*) FROM pg_tables WHERE schemaname = 'control_plane' "
                        "AND tableowner <> 'matih_control_plane'"));
  EXPECT_EQ("false", Query1("SELECT rolcanlogin::text FROM pg_roles WHERE rolname = 'matih_control_plane'"));
  EXPECT_EQ("false", Query1("SELECT (rolsuper OR rolcreaterole OR rolcreatedb)::text FROM pg_roles "
                            "WHERE rolname = 'matih_control_plane'"));
  EXPECT_EQ("false", Query1("SELECT has_schema_privilege('public', 'control_plane', 'USAGE')::text"));
  EXPECT_EQ("false", Query1("SELECT has_schema_privilege('matih_control_plane', 'matih', 'USAGE')::text"));
  EXPECT_EQ(
      "false",
      Query1("SELECT has_table_privilege('matih_control_plane', 'matih.tenant_secrets', 'SELECT')::text"));
}

TEST_F(ControlPlane, UnreachableDatabaseIsTransient) {
  harness_.settings()["controlplane.database_url"] = "postgresql://postgres@127.0.0.1:1/nowhere";
  auto answer = harness_.Apply("create-tenant-record", tenant_);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, answer.status) << answer.message;
}

// The plugin reads its hash key by the runner's start-check rule (plugins/common/key_file.h): a
// 16-byte key written as 32 hex characters, or a key file group or others can read, is refused
// with a message naming the setting and the problem, and the step writes nothing.
TEST_F(ControlPlane, HashKeyFileTheStartCheckRefusesIsRefusedByTheStepToo) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-tenant-record", tenant_).status);
  const auto dir = std::filesystem::temp_directory_path() / ("matih-hash-key-" + tenant_.view.id);
  std::filesystem::create_directories(dir);
  const std::string short_key = (dir / "short.key").string();
  std::ofstream(short_key) << std::string(32, 'a') << "\n";  // 32 hex digits: 16 bytes
  ::chmod(short_key.c_str(), 0600);
  harness_.settings()["controlplane.hash_key_file"] = short_key;
  auto answer = harness_.Apply("create-admin-user", tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status) << answer.message;
  EXPECT_THAT(answer.message,
              HasSubstr("targets.controlplane.hash_key_file: key file " + short_key +
                        " holds 32 hex digits, a key of 16 bytes; at least 32 bytes are needed"));
  EXPECT_EQ("0", Query1("SELECT count(*) FROM control_plane.users WHERE tenant_id = " +
                        pqxx::connection(harness_.database().url()).quote(tenant_.view.id)));

  const std::string open_key = (dir / "open.key").string();
  std::ofstream(open_key) << std::string(64, 'b') << "\n";
  ::chmod(open_key.c_str(), 0640);
  harness_.settings()["controlplane.hash_key_file"] = open_key;
  answer = harness_.Apply("issue-api-keys", tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status) << answer.message;
  EXPECT_THAT(answer.message, HasSubstr("has mode 0640: group and others must have no access"));

  harness_.settings()["controlplane.hash_key_file"] = dir.string();
  answer = harness_.Apply("create-admin-user", tenant_);
  EXPECT_THAT(answer.message, HasSubstr("is not a regular file"));

  // The same file made sound (64 hex digits, mode 0600) is accepted.
  ::chmod(open_key.c_str(), 0600);
  harness_.settings()["controlplane.hash_key_file"] = open_key;
  answer = harness_.Apply("create-admin-user", tenant_);
  EXPECT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace matih::testing
