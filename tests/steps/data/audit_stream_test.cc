// Step 45 (enable-audit-logging, kind data.audit_stream) on the stack's real NATS JetStream and
// PostgreSQL: a stream audit-<slug> on audit.<slug>.> with per-tier retention, the tenant's row in
// control_plane.audit_settings, and a verification event published and read back by apply.
#include "steps/data/data_test_support.h"

namespace matih::testing {
namespace {

const std::string kStep = "enable-audit-logging";

class EnableAuditLogging : public DataStepTest {
 protected:
  void SetUp() override {
    for (auto* t : {&tenant_, &other_}) {
      auto answer = harness_.Apply("create-tenant-record", *t);
      ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
    }
  }
  void TearDown() override {
    for (auto* t : {&tenant_, &other_}) {
      harness_.Remove(kStep, *t);
      harness_.Remove("create-tenant-record", *t);
    }
  }
  void ApplyOk(TestTenant& t) {
    auto answer = harness_.Apply(kStep, t);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  }
  static std::string Stream(const TestTenant& t) { return "audit-" + t.view.slug; }
  static std::string Subject(const TestTenant& t, const std::string& s) {
    return "audit." + t.view.slug + "." + s;
  }
  // The tenant's settings row as "stream|subjects|max_age_seconds|max_bytes", "absent" without it;
  // with_xmin appends the row version (changes whenever the row is written).
  std::string Row(const TestTenant& t, bool with_xmin = false) {
    pqxx::connection c(harness_.database().url());
    pqxx::nontransaction tx(c);
    if (tx.exec1("SELECT to_regclass('control_plane.audit_settings')")[0].is_null()) return "absent";
    auto rows = tx.exec(
        "SELECT stream || '|' || subjects || '|' || max_age_seconds || '|' || max_bytes, xmin::text "
        "FROM control_plane.audit_settings WHERE tenant_id = " +
        tx.quote(t.view.id));
    if (rows.empty()) return "absent";
    return rows[0][0].as<std::string>() + (with_xmin ? "|" + rows[0][1].as<std::string>() : "");
  }
  void SqlExec(const std::string& sql) {
    pqxx::connection c(harness_.database().url());
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  }

  JetStream nats_;
  TestTenant tenant_ = StepHarness::MakeTenant("free", "audit");
  TestTenant other_ = StepHarness::MakeTenant("enterprise", "audit");
};

TEST_F(EnableAuditLogging, StreamAndSettingsHaveTheTierRetentionAndTheVerifyEventIsKept) {
  auto absent = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_ABSENT, absent.status);
  EXPECT_TRUE(absent.outputs.empty()) << "nothing to adopt, no outputs";
  auto answer = harness_.Apply(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  ApplyOk(other_);
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
  EXPECT_EQ(answer.outputs, observed.outputs) << "adoptable: an in-sync observe reports the apply's outputs";
  EXPECT_EQ("audit." + tenant_.view.slug + ".>|33554432|2592000|file|1", nats_.Describe(Stream(tenant_)));
  EXPECT_EQ("audit." + other_.view.slug + ".>|4294967296|220752000|file|1", nats_.Describe(Stream(other_)));
  EXPECT_EQ(Stream(tenant_) + "|audit." + tenant_.view.slug + ".>|2592000|33554432", Row(tenant_));
  EXPECT_EQ(Stream(other_) + "|audit." + other_.view.slug + ".>|220752000|4294967296", Row(other_));
  // apply's verification event, read back here with the test's own client.
  const std::string verify = nats_.LastMessage(Stream(tenant_), Subject(tenant_, "provisioner.verify"));
  EXPECT_NE(std::string::npos, verify.find("\"tenant\":\"" + tenant_.view.id + "\"")) << verify;
  // An event of the tenant's services is kept and read back.
  ASSERT_EQ(NATS_OK, nats_.Publish(Subject(tenant_, "user.login"), "alice logged in"));
  EXPECT_EQ("alice logged in", nats_.LastMessage(Stream(tenant_), Subject(tenant_, "user.login")));
  EXPECT_EQ(Stream(tenant_), tenant_.outputs[kStep]["stream"]);
  EXPECT_EQ("audit." + tenant_.view.slug + ".>", tenant_.outputs[kStep]["subjects"]);
}

TEST_F(EnableAuditLogging, ApplyingAgainKeepsTheStreamAndTheRow) {
  ApplyOk(tenant_);
  const int64_t created = nats_.Created(Stream(tenant_));
  const std::string row = Row(tenant_, true);
  ASSERT_NE(0, created);
  nats_.WatchAdvisories(Stream(tenant_));
  ApplyOk(tenant_);
  EXPECT_EQ("", nats_.Advisories(300)) << "the stream was written again";
  EXPECT_EQ(created, nats_.Created(Stream(tenant_)));
  EXPECT_EQ(row, Row(tenant_, true)) << "the settings row was written again";
  // Two verification events now, both kept.
  EXPECT_EQ("audit." + tenant_.view.slug + ".>|33554432|2592000|file|2", nats_.Describe(Stream(tenant_)));
}

TEST_F(EnableAuditLogging, ADifferentRetentionIsUpdatedInPlace) {
  ApplyOk(tenant_);
  const int64_t created = nats_.Created(Stream(tenant_));
  harness_.SetParams(kStep, R"({"storage": "file", "retention": {
      "free": {"max_bytes": 1048576, "max_age_seconds": 3600}, "starter": {"max_bytes": 2048, "max_age_seconds": 1},
      "professional": {"max_bytes": 2048, "max_age_seconds": 1}, "enterprise": {"max_bytes": 2048, "max_age_seconds": 1}}})");
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("max_age_seconds: have 2592000, want 3600"))
      << observed.message;
  EXPECT_NE(std::string::npos, observed.message.find("settings max_bytes: have 33554432, want 1048576"))
      << observed.message;
  nats_.WatchAdvisories(Stream(tenant_));
  ApplyOk(tenant_);
  EXPECT_EQ("$JS.EVENT.ADVISORY.STREAM.UPDATED", nats_.Advisories(1000));
  EXPECT_EQ(created, nats_.Created(Stream(tenant_))) << "the stream was re-created, its events lost";
  EXPECT_EQ("audit." + tenant_.view.slug + ".>|1048576|3600|file|2", nats_.Describe(Stream(tenant_)));
  EXPECT_EQ(Stream(tenant_) + "|audit." + tenant_.view.slug + ".>|3600|1048576", Row(tenant_));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(EnableAuditLogging, HandChangesAreFoundAndRepaired) {
  ApplyOk(tenant_);
  ApplyOk(other_);
  ASSERT_EQ(NATS_OK, nats_.SetMaxBytes(Stream(tenant_), 4096));
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_TRUE(observed.outputs.empty()) << "a drifted observe reports no outputs";
  EXPECT_NE(std::string::npos, observed.message.find("max_bytes: have 4096, want 33554432"))
      << observed.message;
  ApplyOk(tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);

  SqlExec("UPDATE control_plane.audit_settings SET max_age_seconds = 60 WHERE tenant_id = '" +
          tenant_.view.id + "'");
  observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("settings max_age_seconds: have 60, want 2592000"))
      << observed.message;
  ApplyOk(tenant_);
  EXPECT_EQ(Stream(tenant_) + "|audit." + tenant_.view.slug + ".>|2592000|33554432", Row(tenant_));

  SqlExec("DELETE FROM control_plane.audit_settings WHERE tenant_id = '" + tenant_.view.id + "'");
  observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("settings row missing")) << observed.message;
  ApplyOk(tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);

  ASSERT_EQ(NATS_OK, nats_.Delete(Stream(tenant_)));
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  ApplyOk(tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
  // The other tenant was never touched.
  EXPECT_EQ("audit." + other_.view.slug + ".>|4294967296|220752000|file|1", nats_.Describe(Stream(other_)));
}

TEST_F(EnableAuditLogging, TenantsAreIsolated) {
  ApplyOk(tenant_);
  ApplyOk(other_);
  ASSERT_EQ(NATS_OK, nats_.Publish(Subject(other_, "secret.event"), "other's event"));
  EXPECT_EQ("(none)", nats_.LastMessage(Stream(tenant_), Subject(other_, "secret.event")));
  EXPECT_EQ("other's event", nats_.LastMessage(Stream(other_), Subject(other_, "secret.event")));
  EXPECT_EQ("audit." + tenant_.view.slug + ".>|33554432|2592000|file|1", nats_.Describe(Stream(tenant_)));
  // Removing one tenant leaves the other's stream and row.
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, other_).status);
  EXPECT_NE("absent", Row(other_));
  // The row goes with the tenant's control-plane record.
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove("create-tenant-record", other_).status);
  EXPECT_EQ("absent", Row(other_));
}

TEST_F(EnableAuditLogging, RemoveLeavesNothingAndCanBeRepeated) {
  ApplyOk(tenant_);
  auto removed = harness_.Remove(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, removed.status) << removed.message;
  EXPECT_EQ("absent", nats_.Describe(Stream(tenant_)));
  EXPECT_EQ("absent", Row(tenant_));
  EXPECT_NE(NATS_OK, nats_.Publish(Subject(tenant_, "a"), "nobody stores this"));
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  removed = harness_.Remove(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_OK, removed.status) << removed.message;
}

TEST_F(EnableAuditLogging, ApplyWithoutTheTenantRecordIsRefused) {
  TestTenant stranger = StepHarness::MakeTenant("starter", "audit");
  auto answer = harness_.Apply(kStep, stranger);
  EXPECT_NE(MATIH_STATUS_OK, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("create-tenant-record")) << answer.message;
  EXPECT_EQ("absent", nats_.Describe(Stream(stranger))) << "nothing is created for an unknown tenant";
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, stranger).status);
}

TEST_F(EnableAuditLogging, UnreachableNatsIsTransient) {
  harness_.settings()["data.shared.nats_url"] = ClosedPortUrl("nats");
  ExpectError(harness_.Observe(kStep, tenant_), MATIH_STATUS_UNAVAILABLE, kStep, "NATS 127.0.0.1:");
  ExpectError(harness_.Apply(kStep, tenant_), MATIH_STATUS_UNAVAILABLE, kStep, "NATS 127.0.0.1:");
  EXPECT_EQ("absent", Row(tenant_));
}

TEST_F(EnableAuditLogging, UnreachableControlPlaneIsTransient) {
  harness_.settings()["controlplane.database_url"] = ClosedPortUrl("postgresql") + "/matih";
  auto answer = harness_.Apply(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, answer.status) << answer.message;
  EXPECT_EQ("absent", nats_.Describe(Stream(tenant_))) << "nothing is created before the settings are stored";
}

TEST_F(EnableAuditLogging, BadParamsAreRefusedAtCatalogLoad) {
  const auto& kind = harness_.KindOf(kStep);
  EXPECT_TRUE(kind.ValidateParams(harness_.Step(kStep).params_json).ok());
  for (
      const char* bad :
      {R"({})", R"({"retention": {"free": {"max_bytes": 1048576, "max_age_seconds": 60}}})",
       R"({"storage": "tape", "retention": {}})", R"({"limits": {}})",
       R"({"retention": {"free": {"max_bytes": 0, "max_age_seconds": 60}, "starter": {}, "professional": {}, "enterprise": {}}})",
       R"({"retention": {"free": {"max_bytes": 2048, "max_age_seconds": 60, "max_msgs": 1}, "starter": {"max_bytes": 2048, "max_age_seconds": 1}, "professional": {"max_bytes": 2048, "max_age_seconds": 1}, "enterprise": {"max_bytes": 2048, "max_age_seconds": 1}}})"}) {
    EXPECT_FALSE(kind.ValidateParams(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace matih::testing
