// Through the binary: where settings come from (flag > MATIH_* environment > config file >
// default), and exit code 4 when the database cannot be reached.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_fixture.h"

namespace matih::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line))
    if (!line.empty()) lines.push_back(line);
  return lines;
}

// The log format a run used, judged from its stderr: every line a JSON object with level and
// msg ("json"), every line plain text with the level word ("text"), else "mixed"/"none".
std::string LogFormatOf(const std::string& err) {
  auto lines = Lines(err);
  if (lines.empty()) return "none";
  int json = 0, text = 0;
  for (const auto& l : lines) {
    auto j = nlohmann::json::parse(l, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("level") && j.contains("msg"))
      ++json;
    else if (l.find(" info ") != std::string::npos)
      ++text;
  }
  if (json == static_cast<int>(lines.size())) return "json";
  if (text == static_cast<int>(lines.size())) return "text";
  return "mixed";
}

class CliConfigTest : public CliTest {
 protected:
  // A migrated database shared by the suite: these tests add differently named tenants at most.
  void SetUp() override {
    if (!NeedsDatabase()) return CliTest::SetUp();
    ShareSeed([this] { ASSERT_NO_FATAL_FAILURE(Migrate()); }, /*check_unchanged=*/false);
  }
  // A config file of this test's own (the folder is shared by the suite).
  std::string OwnConfig(const std::string& extra) {
    return WriteConfig(
        extra, std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".conf");
  }
  std::string UnreachableUrl() const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(closed_.port()) + "/matih";
  }
  ClosedPort closed_;
};

TEST_F(CliConfigTest, LogFormatDefaultsToText) {
  CliResult r = Cli({"run"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(LogFormatOf(r.err), "text") << Describe(r);
}

TEST_F(CliConfigTest, LogFormatFromFileBeatsDefault) {
  config_ = OwnConfig("\n[log]\nformat = json\n");
  CliResult r = Cli({"run"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(LogFormatOf(r.err), "json") << Describe(r);
}

TEST_F(CliConfigTest, LogFormatFromEnvironmentBeatsFile) {
  config_ = OwnConfig("\n[log]\nformat = text\n");
  CliResult r = Cli({"run"}, {{"MATIH_LOG_FORMAT", "json"}});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(LogFormatOf(r.err), "json") << Describe(r);
}

TEST_F(CliConfigTest, LogFormatFlagBeatsEnvironment) {
  config_ = OwnConfig("\n[log]\nformat = json\n");
  CliResult r = Cli({"--log-format", "text", "run"}, {{"MATIH_LOG_FORMAT", "json"}});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(LogFormatOf(r.err), "text") << Describe(r);
}

TEST_F(CliConfigTest, LogFormatFlagAfterTheCommandCountsToo) {
  CliResult r = Cli({"run", "--log-format=json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(LogFormatOf(r.err), "json") << Describe(r);
}

TEST_F(CliConfigTest, LogLevelFromEnvironmentSilencesInfo) {
  CliResult r = Cli({"run"}, {{"MATIH_LOG_LEVEL", "warn"}});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(LogFormatOf(r.err), "none") << Describe(r);
}

TEST_F(CliConfigTest, JsonLogModeMakesRunPrintAJsonSummary) {
  CliResult r = Cli({"--log-format", "json", "run"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j.contains("run_id"));
  EXPECT_TRUE(j["tenants"].is_array());
}

TEST_F(CliConfigTest, DatabaseUrlFromEnvironmentBeatsFile) {
  config_ = WriteFile("closed-url.conf", "[database]\nurl = " + UnreachableUrl() + "\n");
  CliResult r = Cli({"tenants", "list"}, {{"MATIH_DATABASE_URL", db_->url()}});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  r = Cli({"tenants", "list"});
  EXPECT_EQ(r.exit_code, 4) << "without the environment the file's closed port is used\n" << Describe(r);
}

TEST_F(CliConfigTest, DatabaseUrlFlagBeatsEnvironment) {
  CliResult r =
      Cli({"--database-url", db_->url(), "tenants", "list"}, {{"MATIH_DATABASE_URL", UnreachableUrl()}});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  r = Cli({"tenants", "list"}, {{"MATIH_DATABASE_URL", UnreachableUrl()}});
  EXPECT_EQ(r.exit_code, 4) << "the environment must beat the file\n" << Describe(r);
}

bool Lists(const std::string& json, const std::string& slug) {
  for (const auto& t : nlohmann::json::parse(json))
    if (t.at("slug") == slug) return true;
  return false;
}

TEST_F(CliConfigTest, DatabaseUrlFromEnvironmentAloneIsEnough) {
  ASSERT_NO_FATAL_FAILURE(AddTenant("env-url-co"));
  CliResult r = Raw({"tenants", "list", "--format", "json"}, {{"MATIH_DATABASE_URL", db_->url()}});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(Lists(r.out, "env-url-co")) << r.out;
}

TEST_F(CliConfigTest, ConfigFileFromMatihConfigEnvironment) {
  ASSERT_NO_FATAL_FAILURE(AddTenant("env-config-co"));
  CliResult r = Raw({"tenants", "list", "--format", "json"}, {{"MATIH_CONFIG", config_}});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(Lists(r.out, "env-config-co")) << r.out;
}

TEST_F(CliConfigTest, RegionsFromConfigAllowAnotherRegion) {
  config_ = OwnConfig("\n[tenants]\nregions = eastus, westeurope\n");
  CliResult r = Cli({"tenants", "add", "--slug", "eu-co", "--tier", "free", "--admin-email",
                     "a@eu-co.example", "--region", "westeurope"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Query("SELECT region FROM matih.tenants WHERE slug = 'eu-co'"), "westeurope");
}

// --- Database unreachable: exit 4 ---------------------------------------------------------------

// No database at all: the config names none, the environment names a closed port.
class CliUnreachableTest : public CliConfigTest,
                           public ::testing::WithParamInterface<std::vector<std::string>> {
 protected:
  bool NeedsDatabase() const override { return false; }
};

TEST_P(CliUnreachableTest, ExitsFourNamingTheDatabase) {
  CliResult r = Cli(GetParam(), {{"MATIH_DATABASE_URL", UnreachableUrl()}});
  EXPECT_EQ(r.exit_code, 4) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("database unreachable")) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
}

INSTANTIATE_TEST_SUITE_P(
    Cli, CliUnreachableTest,
    ::testing::Values(std::vector<std::string>{"migrate"}, std::vector<std::string>{"tenants", "list"},
                      std::vector<std::string>{"tenants", "show", "acme"},
                      std::vector<std::string>{"tenants", "add", "--slug", "acme", "--tier", "free",
                                               "--admin-email", "a@acme.example"},
                      std::vector<std::string>{"run"}, std::vector<std::string>{"plan", "--all"},
                      std::vector<std::string>{"suspend", "acme"},
                      std::vector<std::string>{"history", "acme"},
                      std::vector<std::string>{"audit", "verify"}),
    [](const auto& info) {
      std::string name;
      for (const auto& w : info.param) {
        if (w.rfind("--", 0) == 0 || w == "acme" || w == "free" || w.find('@') != std::string::npos) continue;
        name += static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
        name += w.substr(1);
      }
      return name;
    });

TEST_F(CliUnreachableTest, UnreachableDatabaseMessageNeverShowsThePassword) {
  std::string url =
      "postgresql://postgres:hunter2secret@127.0.0.1:" + std::to_string(closed_.port()) + "/matih";
  CliResult r = Cli({"--database-url", url, "tenants", "list"});
  EXPECT_EQ(r.exit_code, 4) << Describe(r);
  EXPECT_THAT(r.err, Not(HasSubstr("hunter2secret"))) << Describe(r);
}

// An operator's typo in a variable name is exit 2 naming it and the nearest known name, before
// the command runs.
TEST_F(CliConfigTest, MisspelledEnvironmentVariableIsExitTwoNamingTheNearestName) {
  CliResult r = Cli({"tenants", "list"}, {{"MATIH_RUN_WORKRES", "8"}});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("MATIH_RUN_WORKRES")) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("did you mean MATIH_RUN_WORKERS?")) << Describe(r);

  r = Raw({"tenants", "list"}, {{"MATIH_DATABSE_URL", db_->url()}});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("did you mean MATIH_DATABASE_URL?")) << Describe(r);
}

// The local stack's exported var/stack.env (scripts/test does `set -a; source var/stack.env`) is
// not an error: its names are the stack's, known through MATIH_STACK_ROOT.
TEST_F(CliConfigTest, TheExportedLocalStackEnvironmentIsAccepted) {
  CliEnv env;
  std::ifstream in(std::string(MATIH_SOURCE_DIR) + "/var/stack.env");
  ASSERT_TRUE(in) << "no var/stack.env: start the stack (scripts/stack up)";
  std::string line;
  while (std::getline(in, line))
    if (auto eq = line.find('='); !line.empty() && line[0] != '#' && eq != std::string::npos)
      env[line.substr(0, eq)] = line.substr(eq + 1);
  ASSERT_TRUE(env.count("MATIH_STACK_ROOT"));
  ASSERT_GT(env.size(), 5u);
  env.erase("MATIH_DATABASE_URL");  // the config file's database, this test's own
  CliResult r = Cli({"tenants", "list"}, env);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  env["MATIH_LOG_LEVLE"] = "debug";
  r = Cli({"tenants", "list"}, env);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("did you mean MATIH_LOG_LEVEL?")) << Describe(r);
}

}  // namespace
}  // namespace matih::testing
