// `tenants import`: every line judged as `tenants add` judges it (the validator and the real
// step 1), then all tenants added in one transaction, or none; each bad line listed by number.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "cli_fixture.h"

namespace matih::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class CliImportTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    catalog_ = WriteFile("catalog.yaml",
                         "version: 1\n"
                         "phases: {0: validation}\n"
                         "flows:\n"
                         "  free:         {placement: shared,    phases: [0]}\n"
                         "  starter:      {placement: shared,    phases: [0]}\n"
                         "  professional: {placement: dedicated, phases: [0]}\n"
                         "  enterprise:   {placement: dedicated, phases: [0]}\n"
                         "steps:\n"
                         "  - {number: 1, name: validate-request, phase: 0, kind: tenant.validate,\n"
                         "     tiers: [free, starter, professional, enterprise]}\n");
    config_ = WriteFile("runner.conf",
                        "[database]\nurl = " + db_->url() +
                            "\n\n[plugins]\ndir = " + std::string(MATIH_PLUGIN_DIR) +
                            "\n\n[catalog]\nfile = " + catalog_ + "\n\n[secrets]\nkey_file = " + key_file_ +
                            "\n\n[targets]\ntenant.service_catalog = " + std::string(MATIH_SOURCE_DIR) +
                            "/config/service-catalog.yaml\n");
    ASSERT_NO_FATAL_FAILURE(Migrate());
  }

  int Count(const std::string& sql) const { return std::stoi(Query(sql)); }
};

TEST_F(CliImportTest, JsonLinesAreAddedAsPendingWithTheirStepsAndAVerifiableAuditTrail) {
  const std::string file =
      WriteFile("tenants.jsonl",
                "{\"slug\": \"alpha\", \"tier\": \"free\", \"admin_email\": \"a@alpha.example\"}\n"
                "\n"
                "{\"slug\": \"beta\", \"tier\": \"starter\", \"admin_email\": \"b@beta.example\", "
                "\"spec\": {\"services\": [\"ai-service\"]}}\r\n"
                "{\"slug\": \"gamma\", \"tier\": \"free\", \"admin_email\": \"g@gamma.example\"}");
  CliResult r = Cli({"tenants", "import", file});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("imported 3 tenants as PENDING"));
  EXPECT_EQ(Count("SELECT count(*) FROM matih.tenants WHERE status = 'PENDING'"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM matih.tenant_steps"), 3);  // one catalog step each
  EXPECT_EQ(Query("SELECT spec->'services'->>0 FROM matih.tenants WHERE slug = 'beta'"), "ai-service");
  EXPECT_EQ(Query("SELECT spec->>'admin_email' FROM matih.tenants WHERE slug = 'beta'"), "b@beta.example");
  EXPECT_EQ(Count("SELECT count(*) FROM matih.audit_events WHERE event = 'operator.add'"), 3);
  CliResult verify = Cli({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << Describe(verify);
  // An imported tenant is provisioned like an added one.
  CliResult run = Cli({"run", "--tenant", "alpha"});
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(TenantStatus("alpha"), "ACTIVE");
}

TEST_F(CliImportTest, CsvWithAHeaderAndAQuotedSpec) {
  const std::string file =
      WriteFile("tenants.csv",
                "slug,admin_email,tier,spec\n"
                "delta,d@delta.example,free,\"{\"\"services\"\": [\"\"ai-service\"\"]}\"\n"
                "epsilon,e@epsilon.example,starter,\n");
  CliResult r = Cli({"tenants", "import", file, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("\"imported\": 2"));
  EXPECT_EQ(Query("SELECT spec->'services'->>0 FROM matih.tenants WHERE slug = 'delta'"), "ai-service");
  EXPECT_EQ(Query("SELECT tier FROM matih.tenants WHERE slug = 'epsilon'"), "starter");
}

TEST_F(CliImportTest, OneBadLineImportsNothingAndEveryBadLineIsListed) {
  ASSERT_NO_FATAL_FAILURE(AddTenant("taken"));
  const std::string file = WriteFile(
      "tenants.jsonl",
      "{\"slug\": \"fine-co\", \"tier\": \"free\", \"admin_email\": \"a@fine.example\"}\n"  // 1 good
      "{\"slug\": \"admin\", \"tier\": \"free\", \"admin_email\": \"a@admin.example\"}\n"   // 2 reserved
      "{\"slug\": \"x-co\", \"tier\": 3, \"admin_email\": \"a@x.example\"}\n"               // 3 wrong type
      "{\"slug\": \"fine-co\", \"tier\": \"free\", \"admin_email\": \"b@fine.example\"}\n"  // 4 repeated
      "{\"slug\": \"taken\", \"tier\": \"free\", \"admin_email\": \"a@taken.example\"}\n"   // 5 exists
      "not json\n"                                                                          // 6
      "{\"slug\": \"y-co\", \"tier\": \"free\", \"admin_email\": \"a@y.example\", \"x\": 1}\n"  // 7 key
      "{\"slug\": \"z-co\", \"tier\": \"free\", \"admin_email\": \"a@z..example\"}\n");         // 8 e-mail
  const std::string before = Snapshot();
  CliResult r = Cli({"tenants", "import", file});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_EQ(Snapshot(), before) << "a refused import changed the database";
  EXPECT_THAT(r.err, Not(HasSubstr("line 1:")));
  EXPECT_THAT(r.err, HasSubstr("line 2: "));
  EXPECT_THAT(r.err, HasSubstr("reserved"));
  EXPECT_THAT(r.err, HasSubstr("line 3: \"tier\" must be a string"));
  EXPECT_THAT(r.err, HasSubstr("line 4: slug 'fine-co' is on line 1 too"));
  EXPECT_THAT(r.err, HasSubstr("line 5: tenant 'taken' exists already"));
  EXPECT_THAT(r.err, HasSubstr("line 6: not valid JSON"));
  EXPECT_THAT(r.err, HasSubstr("line 7: unknown key \"x\""));
  EXPECT_THAT(r.err, HasSubstr("line 8: "));
  EXPECT_THAT(r.err, HasSubstr("nothing imported: 7 of 8 lines are invalid"));
  EXPECT_EQ(r.out, "");

  // --skip-invalid: the good line goes in, the others are still reported.
  CliResult skip = Cli({"tenants", "import", file, "--skip-invalid", "--format", "json"});
  EXPECT_EQ(skip.exit_code, 0) << Describe(skip);
  EXPECT_THAT(skip.out, HasSubstr("\"imported\": 1"));
  EXPECT_THAT(skip.out, HasSubstr("\"line\": 8"));
  EXPECT_EQ(TenantStatus("fine-co"), "PENDING");
  EXPECT_EQ(Count("SELECT count(*) FROM matih.tenants"), 2);
}

TEST_F(CliImportTest, ABadFileIsRefusedWithNothingChanged) {
  const std::string before = Snapshot();
  struct Case {
    std::string name, content, needle;
  };
  for (const Case& c : std::vector<Case>{
           {"unknown-column.csv", "slug,tier,admin_email,colour\n", "unknown column 'colour'"},
           {"missing-column.csv", "slug,tier\n", "the column 'admin_email' is missing"},
           {"empty.csv", "", "the CSV file is empty"},
           {"open-quote.csv", "slug,tier,admin_email\n\"a,free,a@a.example\n",
            "line 2: a quoted field is not closed"},
           {"fields.csv", "slug,tier,admin_email\na,free\n", "line 2: 2 fields; the header names 3"},
       }) {
    CliResult r = Cli({"tenants", "import", WriteFile(c.name, c.content)});
    EXPECT_EQ(r.exit_code, 2) << c.name << "\n" << Describe(r);
    EXPECT_THAT(r.err, HasSubstr(c.needle)) << c.name;
  }
  CliResult dir = Cli({"tenants", "import", dir_});
  EXPECT_EQ(dir.exit_code, 2) << Describe(dir);
  EXPECT_THAT(dir.err, HasSubstr("is a directory"));
  CliResult missing = Cli({"tenants", "import", dir_ + "/nope.jsonl"});
  EXPECT_EQ(missing.exit_code, 2) << Describe(missing);
  EXPECT_THAT(missing.err, HasSubstr("cannot read import file"));
  CliResult format = Cli({"tenants", "import", dir_ + "/x", "--file-format", "xml"});
  EXPECT_EQ(format.exit_code, 2) << Describe(format);
  EXPECT_THAT(format.err, HasSubstr("'xml' is not jsonl or csv"));
  CliResult longline =
      Cli({"tenants", "import", WriteFile("long.jsonl", std::string(80 * 1024, 'x') + "\n")});
  EXPECT_EQ(longline.exit_code, 2) << Describe(longline);
  EXPECT_THAT(longline.err, HasSubstr("line 1: line is longer than"));
  EXPECT_EQ(Snapshot(), before);
}

// `tenants list` pages by slug: a full page says how to get the next one, on stderr, so the JSON
// on stdout stays one array.
TEST_F(CliImportTest, ListPagesThroughTheImportedTenants) {
  std::string lines;
  for (const char* slug : {"p-a", "p-b", "p-c", "p-d", "p-e"})
    lines += std::string("{\"slug\": \"") + slug + "\", \"tier\": \"free\", \"admin_email\": \"o@" + slug +
             ".example\"}\n";
  ASSERT_EQ(Cli({"tenants", "import", WriteFile("five.jsonl", lines)}).exit_code, 0);
  CliResult first = Cli({"tenants", "list", "--limit", "2", "--format", "json"});
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  EXPECT_THAT(first.out, HasSubstr("\"p-a\""));
  EXPECT_THAT(first.out, HasSubstr("\"p-b\""));
  EXPECT_THAT(first.out, Not(HasSubstr("\"p-c\"")));
  EXPECT_THAT(first.err, HasSubstr("more tenants follow: tenants list --after p-b --limit 2"));
  CliResult last = Cli({"tenants", "list", "--limit", "2", "--after", "p-d"});
  ASSERT_EQ(last.exit_code, 0) << Describe(last);
  EXPECT_THAT(last.out, HasSubstr("p-e"));
  EXPECT_THAT(last.out, Not(HasSubstr("p-d")));
  EXPECT_EQ(last.err, "");  // the last page has no hint
  CliResult bad = Cli({"tenants", "list", "--limit", "0"});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  EXPECT_THAT(bad.err, HasSubstr("--limit must be between 1 and 100000"));
}

}  // namespace
}  // namespace matih::testing
