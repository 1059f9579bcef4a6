// What the binary prints: --help everywhere (exit 0, usage on stdout, no database needed), and
// the JSON shapes machines rely on (issue 2, section 8).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli_fixture.h"

namespace matih::testing {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

// --- --help ------------------------------------------------------------------------------------

class CliHelpTest : public ::testing::TestWithParam<std::vector<std::string>> {
 protected:
  CliRunner cli_{MATIH_PROVISIONER_BIN};
};

std::string Joined(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

// No config, no database: help must need neither.
TEST_P(CliHelpTest, HelpExitsZeroAndPrintsUsageOnStdout) {
  std::vector<std::string> args = GetParam();
  args.push_back("--help");
  CliResult r = cli_.Run(args);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("Usage: matih-provisioner " + Joined(GetParam()))) << Describe(r);
  EXPECT_EQ(r.err, "") << Describe(r);
}

INSTANTIATE_TEST_SUITE_P(
    Cli, CliHelpTest,
    ::testing::Values(std::vector<std::string>{"migrate"}, std::vector<std::string>{"tenants", "add"},
                      std::vector<std::string>{"tenants", "list"},
                      std::vector<std::string>{"tenants", "show"}, std::vector<std::string>{"steps", "list"},
                      std::vector<std::string>{"plugins", "verify"}, std::vector<std::string>{"run"},
                      std::vector<std::string>{"plan"}, std::vector<std::string>{"rollback"},
                      std::vector<std::string>{"delete"}, std::vector<std::string>{"suspend"},
                      std::vector<std::string>{"resume"}, std::vector<std::string>{"retry"},
                      std::vector<std::string>{"upgrade"}, std::vector<std::string>{"history"},
                      std::vector<std::string>{"audit", "verify"}, std::vector<std::string>{"tenants"},
                      std::vector<std::string>{"steps"}, std::vector<std::string>{"plugins"},
                      std::vector<std::string>{"audit"}, std::vector<std::string>{"status"},
                      std::vector<std::string>{"plugins", "try"}),
    [](const auto& info) {
      std::string name;
      for (const auto& w : info.param)
        name += static_cast<char>(std::toupper(static_cast<unsigned char>(w[0]))) + w.substr(1);
      return name;
    });

TEST(CliHelp, TopLevelHelpListsEveryCommandAndExitsZero) {
  CliResult r = CliRunner(MATIH_PROVISIONER_BIN).Run({"--help"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  for (const char* word : {"Usage: matih-provisioner",
                           "migrate",
                           "tenants add",
                           "steps list",
                           "plugins verify",
                           "run",
                           "plan",
                           "rollback",
                           "delete",
                           "suspend",
                           "resume",
                           "retry",
                           "upgrade",
                           "history",
                           "audit verify",
                           "--config",
                           "--database-url",
                           "--plugin-dir",
                           "--catalog",
                           "--log-format",
                           "--log-level",
                           "Exit codes"})
    EXPECT_THAT(r.out, HasSubstr(word)) << Describe(r);
}

TEST(CliHelp, HelpCommandWordWorksLikeTheFlag) {
  CliResult r = CliRunner(MATIH_PROVISIONER_BIN).Run({"help"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("Usage: matih-provisioner"));
}

TEST(CliHelp, CommandHelpWorksEvenWithABrokenConfigFile) {
  CliResult r =
      CliRunner(MATIH_PROVISIONER_BIN).Run({"--config", "/nonexistent/runner.conf", "run", "--help"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("Usage: matih-provisioner run"));
}

TEST(CliHelp, VersionPrintsVersionAndAbi) {
  CliResult r = CliRunner(MATIH_PROVISIONER_BIN).Run({"--version"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("matih-provisioner "));
  EXPECT_THAT(r.out, HasSubstr("step ABI"));
}

// --- JSON shapes ---------------------------------------------------------------------------------

// Read-only commands: the suite shares one database with a PENDING starter tenant (pending-co)
// and an ACTIVE free tenant (active-co).
class CliJsonTest : public CliTest {
 protected:
  void SetUp() override {
    ShareSeed(
        [this] {
          ASSERT_NO_FATAL_FAILURE(Migrate());
          ASSERT_NO_FATAL_FAILURE(AddTenant("pending-co", "starter"));
          ASSERT_NO_FATAL_FAILURE(AddActiveTenant("active-co", "free"));
        },
        /*check_unchanged=*/true);
  }

  Json JsonOf(const std::vector<std::string>& args) {
    CliResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << "stdout is not JSON\n" << Describe(r);
    return j;
  }
};

void ExpectKeys(const Json& j, std::initializer_list<const char*> keys) {
  ASSERT_TRUE(j.is_object()) << j.dump();
  for (const char* k : keys) EXPECT_TRUE(j.contains(k)) << "missing key '" << k << "' in " << j.dump();
}

TEST_F(CliJsonTest, TenantsListJsonIsAnArrayOfSlugTierStatus) {
  Json j = JsonOf({"tenants", "list", "--format", "json"});
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  for (const auto& t : j) ExpectKeys(t, {"slug", "tier", "status"});
  EXPECT_EQ(j[0]["slug"], "active-co");
  EXPECT_EQ(j[0]["tier"], "free");
  EXPECT_EQ(j[0]["status"], "ACTIVE");
  EXPECT_EQ(j[1]["slug"], "pending-co");
  EXPECT_EQ(j[1]["tier"], "starter");
  EXPECT_EQ(j[1]["status"], "PENDING");
}

TEST_F(CliJsonTest, TenantsListStatusFilterKeepsOnlyThatStatus) {
  Json j = JsonOf({"tenants", "list", "--status", "active", "--format", "json"});
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["slug"], "active-co");
}

TEST_F(CliJsonTest, TenantsShowJsonHasEveryStepWithItsStatus) {
  Json j = JsonOf({"tenants", "show", "active-co", "--format", "json"});
  ExpectKeys(j, {"slug", "tier", "status", "generation", "steps"});
  EXPECT_EQ(j["slug"], "active-co");
  EXPECT_EQ(j["status"], "ACTIVE");
  EXPECT_TRUE(j["generation"].is_number_integer());
  ASSERT_TRUE(j["steps"].is_array());
  ASSERT_EQ(j["steps"].size(), 4u);
  std::map<int, std::string> status;
  for (const auto& s : j["steps"]) {
    ExpectKeys(s, {"number", "name", "phase", "status", "attempts", "last_error"});
    status[s["number"].get<int>()] = s["status"].get<std::string>();
  }
  EXPECT_EQ(j["steps"][0]["name"], "validate-request");
  EXPECT_EQ(j["steps"][0]["phase"], 0);
  EXPECT_EQ(status, (std::map<int, std::string>{{1, "DONE"}, {2, "DONE"}, {3, "SKIPPED"}, {4, "DONE"}}));
}

TEST_F(CliJsonTest, StepsListJsonNamesKindTiersAndPlugin) {
  Json j = JsonOf({"steps", "list", "--format", "json"});
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 4u);
  for (const auto& s : j) {
    ExpectKeys(s, {"number", "name", "phase", "kind", "tiers", "plugin"});
    EXPECT_EQ(s["kind"], "test.file");
    EXPECT_EQ(s["plugin"], "matih-test-steps");
    EXPECT_TRUE(s["tiers"].is_array());
  }
  EXPECT_EQ(j[2]["name"], "terraform-apply");
  EXPECT_EQ(j[2]["tiers"], Json({"enterprise", "professional"}));
}

// plan reads the targets, and these tests change them by hand: a database each.
class CliPlanTest : public CliJsonTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(Migrate());
    ASSERT_NO_FATAL_FAILURE(AddTenant("pending-co", "starter"));
    ASSERT_NO_FATAL_FAILURE(AddActiveTenant("active-co", "free"));
  }
};

TEST_F(CliPlanTest, PlanJsonShowsInSyncSkippedAbsentAndDrifted) {
  // Drift one target by hand: the plan must show it, with a diff.
  std::ofstream(state_dir_ + "/active-co/create-tenant-record", std::ios::trunc) << "tampered";
  Json j = JsonOf({"plan", "--all", "--format", "json"});
  ASSERT_TRUE(j.is_object());
  ASSERT_TRUE(j["tenants"].is_array());
  ASSERT_EQ(j["tenants"].size(), 2u);
  std::map<std::string, std::map<int, std::string>> states;
  for (const auto& t : j["tenants"]) {
    ExpectKeys(t, {"slug", "steps"});
    for (const auto& s : t["steps"]) {
      ExpectKeys(s, {"number", "name", "state", "diff"});
      states[t["slug"]][s["number"].get<int>()] = s["state"];
      if (s["state"] == "drifted") {
        EXPECT_THAT(s["diff"].get<std::string>(), HasSubstr("tampered"));
      }
    }
  }
  EXPECT_EQ(states["active-co"],
            (std::map<int, std::string>{{1, "in_sync"}, {2, "drifted"}, {3, "skipped"}, {4, "in_sync"}}));
  EXPECT_EQ(states["pending-co"],
            (std::map<int, std::string>{{1, "absent"}, {2, "absent"}, {3, "skipped"}, {4, "absent"}}));
}

TEST_F(CliPlanTest, PlanChangesNothing) {
  std::filesystem::remove(state_dir_ + "/active-co/validate-request");
  const std::string before = Snapshot();
  CliResult r = Cli({"plan", "--all"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("absent"));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_FALSE(std::filesystem::exists(state_dir_ + "/active-co/validate-request"))
      << "plan applied a step it should only have observed";
  EXPECT_FALSE(std::filesystem::exists(state_dir_ + "/pending-co/validate-request"));
}

TEST_F(CliPlanTest, PlanAllPagesPastFiveHundredTenantsOnWorkersAndKeepsTheSlugOrder) {
  // 520 more PENDING tenants, copies of pending-co (never run, so no step rows, as `tenants add`
  // leaves them): plan --all reads 500 a page.
  ASSERT_EQ(Query("WITH seed AS (SELECT * FROM matih.tenants WHERE slug = 'pending-co'), "
                  "added AS (INSERT INTO matih.tenants (slug, tier, region, admin_email) "
                  "  SELECT 'bulk-' || lpad(g::text, 4, '0'), seed.tier, seed.region, seed.admin_email "
                  "  FROM seed, generate_series(1, 520) g RETURNING id) "
                  "SELECT count(*) FROM added"),
            "520");
  Json j = JsonOf({"plan", "--all", "--workers", "4", "--format", "json"});
  ASSERT_TRUE(j["tenants"].is_array());
  ASSERT_EQ(j["tenants"].size(), 522u);
  std::vector<std::string> slugs;
  for (const auto& t : j["tenants"]) {
    slugs.push_back(t["slug"]);
    if (t["slug"] == "active-co") continue;
    std::map<int, std::string> states;
    for (const auto& st : t["steps"]) states[st["number"].get<int>()] = st["state"];
    EXPECT_EQ(states,
              (std::map<int, std::string>{{1, "absent"}, {2, "absent"}, {3, "skipped"}, {4, "absent"}}))
        << t["slug"];
  }
  EXPECT_TRUE(std::is_sorted(slugs.begin(), slugs.end()));
  EXPECT_EQ(std::set<std::string>(slugs.begin(), slugs.end()).size(), 522u) << "a tenant planned twice";
  EXPECT_EQ(slugs.front(), "active-co");
  EXPECT_EQ(slugs.back(), "pending-co");
  CliResult bad = Cli({"plan", "--all", "--workers", "0"});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  EXPECT_THAT(bad.err, HasSubstr("--workers must be between 1 and"));
}

TEST_F(CliJsonTest, HistoryJsonListsEventsOldestFirst) {
  Json j = JsonOf({"history", "active-co", "--format", "json"});
  ASSERT_TRUE(j.is_array());
  ASSERT_FALSE(j.empty());
  int64_t seq = 0;
  for (const auto& e : j) {
    ExpectKeys(e, {"seq", "time", "event", "step_number", "step_name", "plugin", "details"});
    EXPECT_GT(e["seq"].get<int64_t>(), seq);
    seq = e["seq"].get<int64_t>();
  }
  EXPECT_EQ(j.front()["event"], "operator.add");
}

TEST_F(CliJsonTest, TenantsListTableHasAlignedColumns) {
  CliResult r = Cli({"tenants", "list"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::stringstream ss(r.out);
  std::string header, first, second;
  std::getline(ss, header);
  EXPECT_THAT(header, HasSubstr("SLUG"));
  EXPECT_THAT(header, HasSubstr("STATUS"));
  std::string line;
  bool saw_active = false;
  while (std::getline(ss, line))
    if (line.find("active-co") != std::string::npos) {
      saw_active = true;
      EXPECT_EQ(line.find("ACTIVE"), header.find("STATUS")) << "STATUS column not aligned:\n" << r.out;
    }
  EXPECT_TRUE(saw_active) << r.out;
}

}  // namespace
}  // namespace matih::testing
