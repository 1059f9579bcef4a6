// Step 24 (create-search-indices, kind data.search_indices) on the stack's real PostgreSQL:
// document tables with a generated tsvector and a GIN index, in the tenant's database of step 21.
#include <future>

#include "steps/data/data_test_support.h"

namespace matih::testing {
namespace {

const std::string kStep = "create-search-indices";
const std::string kDatabaseStep = "provision-database";

class CreateSearchIndices : public DataStepTest {
 protected:
  void SetUp() override {
    auto answer = harness_.Apply(kDatabaseStep, tenant_);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
    database_ = tenant_.outputs[kDatabaseStep]["database"];
  }
  void TearDown() override { harness_.Remove(kDatabaseStep, tenant_); }
  void ApplyOk() {
    auto answer = harness_.Apply(kStep, tenant_);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  }
  std::string Value(const std::string& sql) { return PgValue(sql, database_); }
  void Exec(const std::string& sql) { PgExec(sql, database_); }
  // Every catalog row of the schema, its tables, columns and indexes with their xmin.
  std::string Snapshot() {
    return Value(
        "SELECT (SELECT xmin::text || nspowner::text FROM pg_namespace WHERE nspname = 'search') || ' ' || "
        "string_agg(c.relname || ':' || c.xmin || ':' || (SELECT string_agg(a.attname || a.xmin, ',' ORDER "
        "BY "
        "a.attnum) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0), ' ' ORDER BY c.relname) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'search'");
  }
  // The ids of documents in `table` matching the web-search query `q`, as the tenant's role.
  std::string Search(const std::string& table, const std::string& q) {
    pqxx::connection c(PgConninfo(database_, Secret(tenant_, "postgres/password"), database_));
    pqxx::nontransaction tx(c);
    auto f = tx.exec1("SELECT coalesce(string_agg(id, ',' ORDER BY id), '') FROM search." + table +
                      " WHERE tsv @@ websearch_to_tsquery('english', " + tx.quote(q) + ")")[0];
    return f.as<std::string>();
  }

  TestTenant tenant_ = StepHarness::MakeTenant("starter", "search");
  std::string database_;
};

TEST_F(CreateSearchIndices, TablesAreSearchableByTheTenantWithAGinIndex) {
  auto absent = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_ABSENT, absent.status);
  EXPECT_TRUE(absent.outputs.empty()) << "nothing to adopt, no outputs";
  auto answer = harness_.Apply(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
  EXPECT_EQ(answer.outputs, observed.outputs) << "adoptable: an in-sync observe reports the apply's outputs";
  EXPECT_EQ("search.documents,search.datasets,search.dashboards", tenant_.outputs[kStep]["tables"]);
  EXPECT_EQ(database_, Value("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'search'"));
  EXPECT_EQ("3", Value("SELECT count(*) FROM pg_indexes WHERE schemaname = 'search' AND indexdef LIKE "
                       "'%USING gin (tsv)'"));
  {
    pqxx::connection c(PgConninfo(database_, Secret(tenant_, "postgres/password"), database_));
    pqxx::nontransaction tx(c);
    tx.exec(
        "INSERT INTO search.documents (id, title, body) VALUES ('d1', 'Quarterly revenue', 'Sales were "
        "running "
        "high'), ('d2', 'Churn analysis', 'Customers who left')");
  }
  EXPECT_EQ("d1", Search("documents", "run"));  // stemmed: running -> run
  EXPECT_EQ("d2", Search("documents", "churn"));
  EXPECT_EQ("", Search("documents", "weather"));
}

TEST_F(CreateSearchIndices, ApplyingAgainWritesNothing) {
  ApplyOk();
  const std::string before = Snapshot();
  ApplyOk();
  EXPECT_EQ(before, Snapshot());
}

TEST_F(CreateSearchIndices, HandChangesAreDriftedAndRepairedKeepingTheDocuments) {
  ApplyOk();
  Exec("INSERT INTO search.documents (id, title, body) VALUES ('d1', 'Pipelines', 'nightly loads')");
  Exec("DROP INDEX search.documents_tsv_gin");
  Exec("ALTER TABLE search.datasets DROP COLUMN tsv");
  Exec(
      "ALTER TABLE search.datasets ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', "
      "title)) STORED");
  Exec("DROP TABLE search.dashboards");
  Exec("ALTER SCHEMA search OWNER TO postgres");
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_TRUE(observed.outputs.empty()) << "a drifted observe reports no outputs";
  for (const char* part :
       {"schema owner: have 'postgres'", "search.documents: GIN index on tsv missing",
        "search.datasets.tsv is not the generated english tsvector", "table search.dashboards missing"})
    EXPECT_NE(std::string::npos, observed.message.find(part)) << part << " in: " << observed.message;
  ApplyOk();
  observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
  EXPECT_EQ("d1", Search("documents", "load"));
}

TEST_F(CreateSearchIndices, AnotherLanguageRegeneratesTheTsvector) {
  ApplyOk();
  Exec("INSERT INTO search.documents (id, title, body) VALUES ('d1', 'Läufe', 'die Läufe waren schnell')");
  harness_.SetParams(kStep, R"({"schema": "search", "language": "german", "tables": ["documents"]})");
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos,
            observed.message.find("search.documents.tsv is not the generated german tsvector"))
      << observed.message;
  ApplyOk();
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ("1", Value("SELECT count(*) FROM search.documents WHERE tsv @@ to_tsquery('german', 'Lauf')"));
}

TEST_F(CreateSearchIndices, ParallelAppliesOfOneTenantDoNotCollide) {
  auto a = std::async(std::launch::async, [&] { return harness_.Apply(kStep, tenant_); });
  auto b = std::async(std::launch::async, [&] { return harness_.Apply(kStep, tenant_); });
  auto ra = a.get(), rb = b.get();
  EXPECT_EQ(MATIH_STATUS_OK, ra.status) << ra.message;
  EXPECT_EQ(MATIH_STATUS_OK, rb.status) << rb.message;
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(CreateSearchIndices, RemoveDropsTheSchemaAndKeepsTheDatabase) {
  ApplyOk();
  auto removed = harness_.Remove(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, removed.status) << removed.message;
  EXPECT_EQ("0", Value("SELECT count(*) FROM pg_namespace WHERE nspname = 'search'"));
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kDatabaseStep, tenant_).status);
}

TEST_F(CreateSearchIndices, WithoutTheTenantDatabaseApplyIsPermanentAndRemoveIsFine) {
  auto other = StepHarness::MakeTenant("free", "search");
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, other).status);
  auto answer = harness_.Apply(kStep, other);
  ExpectError(answer, MATIH_STATUS_FAILED_PRECONDITION, kStep, "PostgreSQL 127.0.0.1:");
  EXPECT_NE(std::string::npos, answer.message.find("provision-database")) << answer.message;
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, other).status);
}

TEST_F(CreateSearchIndices, UnreachableServerIsTransient) {
  const std::string url = harness_.settings()["data.shared.database_url"];
  harness_.settings()["data.shared.database_url"] = ClosedPortUrl("postgresql") + "/postgres";
  ExpectError(harness_.Apply(kStep, tenant_), MATIH_STATUS_UNAVAILABLE, kStep, "PostgreSQL 127.0.0.1:");
  harness_.settings()["data.shared.database_url"] = url;  // so TearDown can remove the database
}

TEST_F(CreateSearchIndices, BadParamsAreRefusedAtCatalogLoad) {
  const auto& kind = harness_.KindOf(kStep);
  EXPECT_TRUE(kind.ValidateParams(harness_.Step(kStep).params_json).ok());
  for (const char* bad :
       {R"({})", R"({"tables": []})", R"({"tables": ["Documents"]})", R"({"tables": ["docs; DROP TABLE x"]})",
        R"({"tables": ["a", "a"]})", R"({"schema": "public", "tables": ["a"]})",
        R"({"language": "en-US", "tables": ["a"]})", R"({"tables": ["a"], "index": "gist"})"}) {
    EXPECT_FALSE(kind.ValidateParams(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace matih::testing
