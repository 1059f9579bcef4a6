// Step 21 (provision-database, kind data.database) on the stack's real PostgreSQL: a database and
// a login role per tenant, CONNECT revoked from PUBLIC, the password only in the secret store.
#include "steps/data/data_test_support.h"
#include "support/stack_env.h"

namespace matih::testing {
namespace {

const std::string kStep = "provision-database";

std::string SqlName(const TestTenant& t) {
  std::string name = "t_" + t.view.slug;
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}

class ProvisionDatabase : public DataStepTest {
 protected:
  void SetUp() override { tenant_ = StepHarness::MakeTenant("free", "db"); }
  void TearDown() override {
    for (auto* t : {&tenant_, &other_}) harness_.Remove(kStep, *t);
  }
  void ApplyOk(TestTenant& t) {
    auto answer = harness_.Apply(kStep, t);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  }
  // The role's and the database's catalog rows with their xmin: they change on every write.
  std::string Snapshot(const TestTenant& t) {
    const std::string name = SqlName(t);
    return PgValue(
        "SELECT (SELECT xmin::text || rolpassword || rolconnlimit FROM pg_authid WHERE rolname = '" + name +
        "') || '|' || (SELECT xmin::text || coalesce(datacl::text, '') FROM pg_database WHERE datname = '" +
        name + "')");
  }
  bool CanConnect(const TestTenant& who, const TestTenant& to, std::string* error = nullptr) {
    try {
      pqxx::connection c(PgConninfo(SqlName(who), Secret(who, "postgres/password"), SqlName(to)));
      pqxx::nontransaction(c).exec("SELECT 1");
      return true;
    } catch (const std::exception& e) {
      if (error) *error = e.what();
      return false;
    }
  }

  TestTenant tenant_;
  TestTenant other_ = StepHarness::MakeTenant("starter", "db");
};

TEST_F(ProvisionDatabase, AppliedDatabaseIsInSyncAndOwnedByTheTenantRole) {
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  ApplyOk(tenant_);
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
  const std::string name = SqlName(tenant_);
  EXPECT_EQ(name, PgValue("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '" + name + "'"));
  EXPECT_EQ("t|f|f|f|10", PgValue("SELECT concat_ws('|', rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, "
                                  "rolconnlimit) FROM pg_authid WHERE rolname = '" +
                                  name + "'"));
  EXPECT_EQ(
      0u,
      PgValue("SELECT rolpassword FROM pg_authid WHERE rolname = '" + name + "'").rfind("SCRAM-SHA-256$", 0));
  EXPECT_EQ(32u, Secret(tenant_, "postgres/password").size());
  EXPECT_EQ(name, tenant_.outputs[kStep]["database"]);
  EXPECT_EQ(name, tenant_.outputs[kStep]["role"]);
  EXPECT_EQ("matih-data/postgres/password", tenant_.outputs[kStep]["password_secret"]);
}

TEST_F(ProvisionDatabase, TenantRoleConnectsToItsOwnDatabaseAndIsRefusedOnAnothers) {
  ApplyOk(tenant_);
  ApplyOk(other_);
  EXPECT_TRUE(CanConnect(tenant_, tenant_));
  EXPECT_TRUE(CanConnect(other_, other_));
  std::string error;
  EXPECT_FALSE(CanConnect(tenant_, other_, &error));
  EXPECT_NE(std::string::npos, error.find("permission denied for database")) << error;
  EXPECT_FALSE(CanConnect(other_, tenant_, &error));
  EXPECT_NE(std::string::npos, error.find("permission denied for database")) << error;
  EXPECT_NE(Secret(tenant_, "postgres/password"), Secret(other_, "postgres/password"));
}

TEST_F(ProvisionDatabase, ApplyingAgainWritesNothing) {
  ApplyOk(tenant_);
  const std::string before = Snapshot(tenant_);
  const std::string password = Secret(tenant_, "postgres/password");
  ApplyOk(tenant_);
  EXPECT_EQ(before, Snapshot(tenant_));
  EXPECT_EQ(password, Secret(tenant_, "postgres/password"));
}

TEST_F(ProvisionDatabase, HandChangesAreDriftedAndRepairedWithoutRotatingThePassword) {
  ApplyOk(tenant_);
  ApplyOk(other_);
  const std::string name = SqlName(tenant_);
  const std::string password = Secret(tenant_, "postgres/password");
  PgExec("ALTER ROLE " + name + " CREATEDB CONNECTION LIMIT 99 PASSWORD 'chosen-by-hand'");
  PgExec("GRANT CONNECT ON DATABASE " + name + " TO PUBLIC");
  PgExec("ALTER DATABASE " + name + " OWNER TO postgres");
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status) << observed.message;
  for (const char* part : {"role attributes: have CREATEDB", "connection limit: have 99, want 10",
                           "role password does not match the secret store", "database owner: have 'postgres'",
                           "PUBLIC may connect"})
    EXPECT_NE(std::string::npos, observed.message.find(part)) << part << " in: " << observed.message;
  EXPECT_EQ(std::string::npos, observed.message.find(password));
  EXPECT_EQ(std::string::npos, observed.message.find("chosen-by-hand"));

  ApplyOk(tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ(password, Secret(tenant_, "postgres/password"));
  EXPECT_EQ("f", PgValue("SELECT rolcreatedb FROM pg_authid WHERE rolname = '" + name + "'"));
  EXPECT_FALSE(CanConnect(other_, tenant_)) << "PUBLIC lost CONNECT again";
}

TEST_F(ProvisionDatabase, PasswordTheServerHashedItselfMatchesTheStoredOne) {
  // The plugin's own SCRAM computation agrees with PostgreSQL's.
  ApplyOk(tenant_);
  PgExec("ALTER ROLE " + SqlName(tenant_) + " PASSWORD '" + Secret(tenant_, "postgres/password") + "'");
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
}

TEST_F(ProvisionDatabase, DroppedDatabaseIsDriftedAndRecreated) {
  ApplyOk(tenant_);
  PgExec("DROP DATABASE " + SqlName(tenant_));
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("database " + SqlName(tenant_) + " missing"));
  ApplyOk(tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
  EXPECT_TRUE(CanConnect(tenant_, tenant_));
}

TEST_F(ProvisionDatabase, RemoveLeavesNothingAndCanBeRepeated) {
  ApplyOk(tenant_);
  ApplyOk(other_);
  pqxx::connection open_session(PgConninfo(SqlName(tenant_), "x", SqlName(tenant_)));  // ended by the remove
  auto removed = harness_.Remove(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, removed.status) << removed.message;
  const std::string name = SqlName(tenant_);
  EXPECT_EQ("0", PgValue("SELECT count(*) FROM pg_database WHERE datname = '" + name + "'"));
  EXPECT_EQ("0", PgValue("SELECT count(*) FROM pg_authid WHERE rolname = '" + name + "'"));
  EXPECT_EQ("", Secret(tenant_, "postgres/password"));
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, other_).status) << "the other tenant is untouched";
}

TEST_F(ProvisionDatabase, SlugLongerThanAnIdentifierGetsAShortenedUniqueName) {
  // 63-character slugs make "t_<slug>" longer than PostgreSQL's 63-byte identifiers.
  TestTenant a = tenant_, b = other_;
  a.view.slug = std::string(56, 'a') + "-" + tenant_.view.slug.substr(tenant_.view.slug.size() - 6);
  b.view.slug = a.view.slug.substr(0, 62) + (a.view.slug.back() == '0' ? "1" : "0");
  ASSERT_EQ(63u, a.view.slug.size());
  ApplyOk(a);
  ApplyOk(b);
  const std::string name_a = a.outputs[kStep]["database"], name_b = b.outputs[kStep]["database"];
  EXPECT_EQ(63u, name_a.size());
  EXPECT_NE(name_a, name_b);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, a).status);
  harness_.Remove(kStep, a);  // RemoveLeavesNothingAndCanBeRepeated checks its answer
  harness_.Remove(kStep, b);
  EXPECT_EQ(
      "0", PgValue("SELECT count(*) FROM pg_database WHERE datname IN ('" + name_a + "', '" + name_b + "')"));
}

TEST_F(ProvisionDatabase, DedicatedTierUsesItsOwnSettingAndNeverFallsBack) {
  auto tenant = StepHarness::MakeTenant("professional", "db");
  harness_.settings().erase("data.dedicated.database_url");
  auto answer = harness_.Apply(kStep, tenant);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("targets.data.dedicated.database_url")) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("step " + kStep)) << answer.message;
  EXPECT_EQ("0", PgValue("SELECT count(*) FROM pg_authid WHERE rolname = '" + SqlName(tenant) + "'"));
}

TEST_F(ProvisionDatabase, UnreachableServerIsTransient) {
  harness_.settings()["data.shared.database_url"] = ClosedPortUrl("postgresql") + "/postgres";
  ExpectError(harness_.Observe(kStep, tenant_), MATIH_STATUS_UNAVAILABLE, kStep, "PostgreSQL 127.0.0.1:");
  ExpectError(harness_.Apply(kStep, tenant_), MATIH_STATUS_UNAVAILABLE, kStep, "PostgreSQL 127.0.0.1:");
}

TEST_F(ProvisionDatabase, RefusedLoginIsPermanent) {
  harness_.settings()["data.shared.database_url"] =
      "postgresql://no_such_admin@127.0.0.1:" + StackEnv::Require("MATIH_PG_PORT") + "/postgres";
  ExpectError(harness_.Apply(kStep, tenant_), MATIH_STATUS_PERMISSION_DENIED, kStep, "PostgreSQL 127.0.0.1:");
}

TEST_F(ProvisionDatabase, ConnectionsAreReusedAcrossCalls) {
  // A name of this test's own: other test processes running at the same time have sessions of
  // the plugin too.
  const std::string name = "matih-data-reuse-" + std::to_string(::getpid());
  std::string& url = harness_.settings()["data.shared.database_url"];
  url += (url.find('?') == std::string::npos ? "?" : "&") + std::string("application_name=") + name;
  ApplyOk(tenant_);
  const std::string sessions =
      "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE application_name = '" +
      name + "' AND datname = 'postgres'";
  const std::string before = PgValue(sessions);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
  EXPECT_NE("NULL", before);
  EXPECT_EQ(before, PgValue(sessions)) << "the same server sessions serve every call";
}

TEST_F(ProvisionDatabase, BadParamsAreRefusedAtCatalogLoad) {
  const auto& kind = harness_.KindOf(kStep);
  EXPECT_TRUE(kind.ValidateParams(harness_.Step(kStep).params_json).ok());
  EXPECT_TRUE(kind.ValidateParams("{}").ok());
  for (const char* bad : {R"({"connection_limit": {"free": -2}})", R"({"connection_limit": {"gold": 5}})",
                          R"({"connection_limit": 5})", R"({"conection_limit": {}})", R"([1])"}) {
    auto status = kind.ValidateParams(bad);
    EXPECT_FALSE(status.ok()) << bad;
  }
}

}  // namespace
}  // namespace matih::testing
