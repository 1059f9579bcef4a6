// `tenants import`: every line judged as `tenants add` judges it (the validator and the real
// step 1), then all tenants added in one transaction, or none; each bad line listed by number.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cli_fixture.h"

namespace matih::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

class CliImportTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    UseRealStep1Only();
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
  EXPECT_EQ(Count("SELECT count(*) FROM matih.tenant_steps"), 0);  // made by the first run
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

// A tenant gets its step rows when a run first works its steps (none at add or import time):
// every reader treats a step without a row as PENDING, never run. The catalog: 4 test.file steps,
// step 3 for dedicated tiers only.
class CliUnclaimedStepsTest : public CliTest {
 protected:
  int Rows(const std::string& slug) const {
    return std::stoi(
        Query("SELECT count(*) FROM matih.tenant_steps s JOIN matih.tenants t ON t.id = s.tenant_id "
              "WHERE t.slug = '" +
              slug + "'"));
  }
  // Step status by number, from `tenants show --format json`.
  std::map<int, std::string> Shown(const std::string& slug) const {
    CliResult r = Cli({"tenants", "show", slug, "--format", "json"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    std::map<int, std::string> out;
    if (r.exit_code != 0) return out;
    const Json shown = Json::parse(r.out);
    for (const auto& s : shown["steps"]) out[s["number"].get<int>()] = s["status"];
    return out;
  }
  std::string Journal(const std::string& slug) const {
    std::ifstream in(state_dir_ + "/" + slug + "/journal");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  const std::map<int, std::string> kAllPending{
      {1, "PENDING"}, {2, "PENDING"}, {3, "PENDING"}, {4, "PENDING"}};
};

TEST_F(CliUnclaimedStepsTest, AddedAndImportedTenantsShowEveryStepPendingAndProvisionNormally) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("added-co"));
  CliResult imp = Cli({"tenants", "import",
                       WriteFile("one.jsonl",
                                 "{\"slug\": \"imported-co\", \"tier\": \"free\", "
                                 "\"admin_email\": \"o@imported.example\"}\n")});
  ASSERT_EQ(imp.exit_code, 0) << Describe(imp);
  EXPECT_EQ(Query("SELECT count(*) FROM matih.tenant_steps"), "0");
  for (const char* slug : {"added-co", "imported-co"}) {
    EXPECT_EQ(Shown(slug), kAllPending) << slug;
    CliResult table = Cli({"tenants", "show", slug});
    ASSERT_EQ(table.exit_code, 0) << Describe(table);
    std::istringstream lines(table.out);
    int pending_rows = 0;
    for (std::string line; std::getline(lines, line);)
      if (line.find("PENDING") != std::string::npos && line.rfind("status", 0) != 0) ++pending_rows;
    EXPECT_EQ(pending_rows, 4) << table.out;
    CliResult history = Cli({"history", slug, "--format", "json"});
    ASSERT_EQ(history.exit_code, 0) << Describe(history);
    const Json events = Json::parse(history.out);
    ASSERT_EQ(events.size(), 1u) << history.out;
    EXPECT_EQ(events[0]["event"], "operator.add");
  }
  CliResult verify = Cli({"audit", "verify"});  // both first events hashed by TenantStore::Insert
  EXPECT_EQ(verify.exit_code, 0) << Describe(verify);
  CliResult status = Cli({"status", "--format", "json"});
  ASSERT_EQ(status.exit_code, 0) << Describe(status);
  EXPECT_EQ(Json::parse(status.out)["pending"]["count"], 2) << status.out;

  // plan observes every step the tier runs (nothing exists yet) and writes nothing.
  const std::string before = Snapshot();
  CliResult plan = Cli({"plan", "added-co", "--format", "json"});
  ASSERT_EQ(plan.exit_code, 0) << Describe(plan);
  std::map<int, std::string> planned;
  const Json plan_json = Json::parse(plan.out);
  for (const auto& s : plan_json["tenants"][0]["steps"]) planned[s["number"].get<int>()] = s["state"];
  EXPECT_EQ(planned,
            (std::map<int, std::string>{{1, "absent"}, {2, "absent"}, {3, "skipped"}, {4, "absent"}}))
      << plan.out;
  EXPECT_EQ(Snapshot(), before) << "plan wrote to the database";

  CliResult run = Cli({"run"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  for (const char* slug : {"added-co", "imported-co"}) {
    EXPECT_EQ(TenantStatus(slug), "ACTIVE");
    EXPECT_EQ(Shown(slug),
              (std::map<int, std::string>{{1, "DONE"}, {2, "DONE"}, {3, "SKIPPED"}, {4, "DONE"}}))
        << slug;
    EXPECT_EQ(Rows(slug), 4) << slug;  // the run made every row
  }
}

TEST_F(CliUnclaimedStepsTest, ANeverRunTenantIsCancelledByDeleteWithNothingRemoved) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("never-co"));
  CliResult d = Cli({"delete", "never-co"});
  ASSERT_EQ(d.exit_code, 0) << Describe(d);
  EXPECT_EQ(TenantStatus("never-co"), "DELETED");
  CliResult run = Cli({"run"});
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(Rows("never-co"), 0);
  EXPECT_EQ(Journal("never-co"), "") << "a step was applied or removed";
  EXPECT_FALSE(std::filesystem::exists(state_dir_ + "/never-co/validate-request"));
  EXPECT_EQ(Shown("never-co"), kAllPending);
}

// Failed in step 2 of its first run: rows for steps 1 and 2 only; a rollback removes just those
// (steps 3 and 4 never ran, and no plugin is asked to remove them).
TEST_F(CliUnclaimedStepsTest, RollbackAfterAFailedFirstRunRemovesOnlyTheStepsThatRan) {
  catalog_ = WriteCatalog({{2, "{value: ok, fail: permanent}"}});
  config_ = WriteConfig("\n[run]\nfailure_policy = park\n");
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("half-co"));
  CliResult r = Cli({"run"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_EQ(TenantStatus("half-co"), "FAILED");
  EXPECT_EQ(Rows("half-co"), 2);
  EXPECT_EQ(Shown("half-co"),
            (std::map<int, std::string>{{1, "DONE"}, {2, "FAILED"}, {3, "PENDING"}, {4, "PENDING"}}));
  CliResult rb = Cli({"rollback", "half-co"});
  ASSERT_EQ(rb.exit_code, 0) << Describe(rb);
  CliResult again = Cli({"run"});
  EXPECT_EQ(again.exit_code, 3) << Describe(again);  // a rolled-back tenant is not a success
  EXPECT_EQ(TenantStatus("half-co"), "ROLLED_BACK");
  const std::string journal = Journal("half-co");
  EXPECT_THAT(journal, HasSubstr("remove create-tenant-record\nremove validate-request\n"));
  EXPECT_THAT(journal, Not(HasSubstr("activate-tenant")));
  EXPECT_THAT(journal, Not(HasSubstr("terraform-apply")));
  EXPECT_FALSE(std::filesystem::exists(state_dir_ + "/half-co/validate-request"));
  EXPECT_EQ(Shown("half-co"),
            (std::map<int, std::string>{{1, "REMOVED"}, {2, "REMOVED"}, {3, "PENDING"}, {4, "PENDING"}}));
}

// The same failed first run, retried from step 2 once fixed (the resume sets back rows that may
// not exist), then deleted: every step that ran is removed, and only those.
TEST_F(CliUnclaimedStepsTest, RetryAndDeletionAfterAFailedFirstRun) {
  catalog_ = WriteCatalog({{2, "{value: ok, fail: permanent}"}});
  config_ = WriteConfig("\n[run]\nfailure_policy = park\n");
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("half-co"));
  EXPECT_EQ(Cli({"run"}).exit_code, 3);
  ASSERT_EQ(TenantStatus("half-co"), "FAILED");
  catalog_ = WriteCatalog();
  config_ = WriteConfig("\n[run]\nfailure_policy = park\n");
  CliResult retry = Cli({"retry", "half-co", "--from", "2"});
  ASSERT_EQ(retry.exit_code, 0) << Describe(retry);
  CliResult run = Cli({"run"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(TenantStatus("half-co"), "ACTIVE");
  EXPECT_EQ(Shown("half-co"),
            (std::map<int, std::string>{{1, "DONE"}, {2, "DONE"}, {3, "SKIPPED"}, {4, "DONE"}}));
  CliResult d = Cli({"delete", "half-co", "--grace", "0s"});
  ASSERT_EQ(d.exit_code, 0) << Describe(d);
  CliResult gone = Cli({"run"});
  ASSERT_EQ(gone.exit_code, 0) << Describe(gone);
  EXPECT_EQ(TenantStatus("half-co"), "DELETED");
  const std::string journal = Journal("half-co");
  EXPECT_THAT(journal,
              HasSubstr("remove activate-tenant\nremove create-tenant-record\nremove validate-request\n"));
  EXPECT_THAT(journal, Not(HasSubstr("terraform-apply")));
}

}  // namespace
}  // namespace matih::testing
