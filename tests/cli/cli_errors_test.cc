// Every CLI error path: exit code 2, a message on stderr naming the problem, nothing on stdout,
// and not one row of the runner's tables changed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli_fixture.h"

namespace matih::testing {
namespace {

using ::testing::HasSubstr;

// Error paths change nothing, so the tests of a suite share one seeded database (ShareSeed): one
// PENDING tenant (pending-co) and one ACTIVE free tenant (active-co, from a real run).
class CliErrorTest : public CliTest {
 protected:
  void SetUp() override {
    ShareSeed(
        [this] {
          ASSERT_NO_FATAL_FAILURE(Migrate());
          ASSERT_NO_FATAL_FAILURE(AddTenant("pending-co"));
          ASSERT_NO_FATAL_FAILURE(AddActiveTenant("active-co"));
        },
        /*check_unchanged=*/true);
  }

  // Runs `args` (with the fixture's config) and checks exit 2, `needle` on stderr, no change.
  void ExpectUsageError(const std::vector<std::string>& args, const std::vector<std::string>& needles,
                        const CliEnv& env = {}) {
    const std::string before = Snapshot();
    CliResult r = Cli(args, env);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    for (const auto& n : needles) EXPECT_THAT(r.err, HasSubstr(n)) << Describe(r);
    EXPECT_EQ(r.out, "") << Describe(r);
    EXPECT_EQ(Snapshot(), before) << "the command changed the database\n" << Describe(r);
  }
};

// --- Arguments: one table, one test per row -------------------------------------------------

struct UsageCase {
  const char* name;
  std::vector<std::string> args;
  std::vector<std::string> needles;  // each must appear on stderr
};

class CliUsageErrorTest : public CliErrorTest, public ::testing::WithParamInterface<UsageCase> {};

TEST_P(CliUsageErrorTest, ExitsTwoNamingTheProblemAndChangesNothing) {
  ExpectUsageError(GetParam().args, GetParam().needles);
}

const std::string kLongSlug(41, 'a');
const std::string kFormatError = "--format must be table or json";

INSTANTIATE_TEST_SUITE_P(
    Cli, CliUsageErrorTest,
    ::testing::Values(
        UsageCase{"UnknownCommand", {"frobnicate"}, {"unknown command 'frobnicate'"}},
        UsageCase{"UnknownSubcommand", {"tenants", "frobnicate"}, {"unknown command 'tenants frobnicate'"}},
        UsageCase{"UnknownOption", {"tenants", "list", "--colour", "red"}, {"--colour"}},
        UsageCase{"UnknownOptionOfRun", {"run", "--turbo"}, {"--turbo"}},
        UsageCase{
            "MissingAdminEmail", {"tenants", "add", "--slug", "new-co", "--tier", "free"}, {"admin-email"}},
        UsageCase{"MissingSlugOfAdd",
                  {"tenants", "add", "--tier", "free", "--admin-email", "a@b.example"},
                  {"slug"}},
        UsageCase{"MissingTierOfUpgrade", {"upgrade", "active-co"}, {"tier"}},
        UsageCase{"MissingSlugOfShow", {"tenants", "show"}, {"slug"}},
        UsageCase{"MissingSlugOfSuspend", {"suspend"}, {"slug"}},
        UsageCase{"GlobalFlagWithoutValue",
                  {"tenants", "list", "--database-url"},
                  {"--database-url needs a value"}},
        UsageCase{"RunLimitNotANumber", {"run", "--limit", "many"}, {"many", "limit"}},
        UsageCase{"RunLimitZero", {"run", "--limit", "0"}, {"--limit must be between 1 and"}},
        UsageCase{"RunWorkersZero", {"run", "--workers", "0"}, {"--workers must be between 1 and"}},
        UsageCase{
            "BadFormatOfTenantsList", {"tenants", "list", "--format", "yaml"}, {kFormatError, "'yaml'"}},
        UsageCase{
            "BadFormatOfTenantsShow", {"tenants", "show", "active-co", "--format", "xml"}, {kFormatError}},
        UsageCase{"BadFormatOfStepsList", {"steps", "list", "--format", "csv"}, {kFormatError}},
        UsageCase{"BadFormatOfPlan", {"plan", "active-co", "--format", "html"}, {kFormatError}},
        UsageCase{"BadFormatOfHistory", {"history", "active-co", "--format", "yaml"}, {kFormatError}},
        UsageCase{"BadFormatOfAuditVerify", {"audit", "verify", "--format", "yaml"}, {kFormatError}},
        UsageCase{
            "BadStatusFilter", {"tenants", "list", "--status", "sleeping"}, {"unknown status 'SLEEPING'"}},
        UsageCase{
            "BadTier",
            {"tenants", "add", "--slug", "new-co", "--tier", "platinum", "--admin-email", "a@new-co.example"},
            {"tier 'platinum'"}},
        UsageCase{"SlugWithUppercaseAndUnderscore",
                  {"tenants", "add", "--slug", "Bad_Slug", "--tier", "free", "--admin-email", "a@b.example"},
                  {"slug 'Bad_Slug'", "RFC 1035"}},
        UsageCase{"SlugStartingWithADigit",
                  {"tenants", "add", "--slug", "1co", "--tier", "free", "--admin-email", "a@b.example"},
                  {"slug '1co'"}},
        UsageCase{"SlugEndingWithAHyphen",
                  {"tenants", "add", "--slug", "co-", "--tier", "free", "--admin-email", "a@b.example"},
                  {"slug 'co-'"}},
        UsageCase{"SlugLongerThan40",
                  {"tenants", "add", "--slug", kLongSlug, "--tier", "free", "--admin-email", "a@b.example"},
                  {"slug '" + kLongSlug + "'", "at most 40"}},
        UsageCase{"BadEmail",
                  {"tenants", "add", "--slug", "new-co", "--tier", "free", "--admin-email", "not-an-email"},
                  {"e-mail 'not-an-email'"}},
        UsageCase{"EmailWithoutDomainDot",
                  {"tenants", "add", "--slug", "new-co", "--tier", "free", "--admin-email", "a@localhost"},
                  {"e-mail 'a@localhost'"}},
        UsageCase{"BadRegion",
                  {"tenants", "add", "--slug", "new-co", "--tier", "free", "--admin-email", "a@b.example",
                   "--region", "mars"},
                  {"region 'mars'"}},
        UsageCase{
            "DuplicateSlug",
            {"tenants", "add", "--slug", "pending-co", "--tier", "free", "--admin-email", "a@b.example"},
            {"tenant 'pending-co' already exists"}},
        UsageCase{"ShowUnknownTenant", {"tenants", "show", "ghost"}, {"no tenant 'ghost'"}},
        UsageCase{"HistoryOfUnknownTenant", {"history", "ghost"}, {"no tenant 'ghost'"}},
        UsageCase{"RollbackUnknownTenant", {"rollback", "ghost"}, {"no tenant 'ghost'"}},
        UsageCase{"DeleteUnknownTenant", {"delete", "ghost"}, {"no tenant 'ghost'"}},
        UsageCase{"SuspendUnknownTenant", {"suspend", "ghost"}, {"no tenant 'ghost'"}},
        UsageCase{"ResumeUnknownTenant", {"resume", "ghost"}, {"no tenant 'ghost'"}},
        UsageCase{"RetryUnknownTenant", {"retry", "ghost"}, {"no tenant 'ghost'"}},
        UsageCase{"UpgradeUnknownTenant", {"upgrade", "ghost", "--tier", "starter"}, {"no tenant 'ghost'"}},
        UsageCase{"PlanUnknownTenant", {"plan", "ghost"}, {"no tenant 'ghost'"}},
        UsageCase{"AuditVerifyUnknownTenant", {"audit", "verify", "ghost"}, {"no tenant 'ghost'"}},
        UsageCase{"RunUnknownTenant", {"run", "--tenant", "ghost"}, {"no tenant 'ghost'"}},
        UsageCase{"SuspendPendingTenant", {"suspend", "pending-co"}, {"'pending-co' is PENDING"}},
        UsageCase{"ResumeActiveTenant", {"resume", "active-co"}, {"'active-co' is ACTIVE"}},
        UsageCase{"RetryActiveTenant", {"retry", "active-co"}, {"'active-co' is ACTIVE"}},
        UsageCase{"RollbackActiveTenant", {"rollback", "active-co"}, {"'active-co' is ACTIVE"}},
        // (delete of a PENDING tenant cancels it: cli_lifecycle_test.cc)
        UsageCase{"CancelActiveTenant", {"cancel", "active-co"}, {"only a PENDING tenant can be cancelled"}},
        UsageCase{"UpgradePendingTenant",
                  {"upgrade", "pending-co", "--tier", "starter"},
                  {"'pending-co' is PENDING"}},
        UsageCase{"UpgradeToTheSameTier", {"upgrade", "active-co", "--tier", "free"}, {"already free"}},
        UsageCase{
            "UpgradeToUnknownTier", {"upgrade", "active-co", "--tier", "platinum"}, {"tier 'platinum'"}},
        UsageCase{
            "DeleteWithBadGrace", {"delete", "active-co", "--grace", "soon"}, {"'soon' is not a duration"}},
        UsageCase{
            "PendingOnlyWithDriftOnly", {"run", "--pending-only", "--drift-only"}, {"exclude each other"}},
        UsageCase{"PlanWithoutSlugOrAll", {"plan"}, {"plan needs a SLUG or --all"}},
        UsageCase{"PlanWithSlugAndAll", {"plan", "active-co", "--all"}, {"plan needs a SLUG or --all"}},
        UsageCase{"BadLogFormatFlag", {"--log-format", "xml", "tenants", "list"}, {"log.format", "'xml'"}},
        UsageCase{"BadLogLevelFlag", {"--log-level", "loud", "tenants", "list"}, {"log.level", "'loud'"}},
        UsageCase{"MissingCatalog",
                  {"--catalog", "/nonexistent/catalog.yaml", "steps", "list"},
                  {"/nonexistent/catalog.yaml"}}),
    [](const ::testing::TestParamInfo<UsageCase>& info) { return std::string(info.param.name); });

// --- Spec files -------------------------------------------------------------------------------

std::vector<std::string> AddWithSpec(const std::string& spec) {
  return {"tenants", "add",           "--slug",           "new-co", "--tier",
          "free",    "--admin-email", "a@new-co.example", "--spec", spec};
}

TEST_F(CliErrorTest, SpecFileMissingExitsTwoNamingTheFile) {
  ExpectUsageError(AddWithSpec(dir_ + "/no-such-spec.json"), {"cannot read spec file", "no-such-spec.json"});
}

TEST_F(CliErrorTest, SpecFileNotJsonExitsTwo) {
  ExpectUsageError(AddWithSpec(WriteFile("spec.json", "{services: [query-engine")),
                   {"spec is not valid JSON"});
}

TEST_F(CliErrorTest, SpecFileNotAnObjectExitsTwo) {
  ExpectUsageError(AddWithSpec(WriteFile("spec.json", "[\"query-engine\"]")), {"spec must be a JSON object"});
}

TEST_F(CliErrorTest, SpecFileOver64KiBExitsTwo) {
  std::string big = "{\"pad\": \"" + std::string(64 * 1024, 'x') + "\"}";
  ExpectUsageError(AddWithSpec(WriteFile("spec.json", big)), {"the limit is 65536"});
}

TEST_F(CliErrorTest, SpecRegionContradictingTheFlagExitsTwo) {
  ExpectUsageError(AddWithSpec(WriteFile("spec.json", "{\"region\": \"westeurope\"}")), {"spec.region"});
}

// --- Configuration -----------------------------------------------------------------------------

TEST_F(CliErrorTest, UnknownConfigKeyNamesKeyAndFile) {
  std::string conf = WriteConfig("\n[run]\nturbo = yes\n", "bad.conf");
  ExpectUsageError({"--config", conf, "tenants", "list"}, {"unknown config key 'run.turbo'", conf});
}

TEST_F(CliErrorTest, UnknownTargetsKeyIsRefusedWhenEveryPluginDeclaresItsSettings) {
  std::string conf = WriteConfig("test.state_dirr = /tmp/typo\n", "typo.conf");
  ExpectUsageError({"--config", conf, "run"},
                   {"unknown setting(s) targets.test.state_dirr", "plugins verify"});
  // plugins verify reports it beside the plugins and their declared settings, and exits 2.
  CliResult r = Cli({"--config", conf, "plugins", "verify"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("settings: unknown setting(s) targets.test.state_dirr")) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("targets.test.state_dir ")) << "the declared setting is listed\n"
                                                           << Describe(r);
}

TEST_F(CliErrorTest, TruncatedPluginIsRefusedWithExitTwoNotASignal) {
  // The first 20,000 bytes of a real plugin in a plugin directory used to kill `steps list`,
  // `plugins verify` and `run` with SIGBUS.
  const std::string plugins = dir_ + "/broken-plugins";
  std::filesystem::create_directories(plugins);
  ::chmod(plugins.c_str(), 0755);
  const std::string cut = plugins + "/cut.so";
  std::filesystem::copy_file(std::string(MATIH_TEST_PLUGIN_DIR) + "/steps/matih-test-steps.so", cut);
  std::filesystem::resize_file(cut, 20000);
  ::chmod(cut.c_str(), 0755);
  for (const std::vector<std::string>& command : {std::vector<std::string>{"steps", "list"}, {"run"}}) {
    std::vector<std::string> args = {"--config", config_, "--plugin-dir", plugins};
    args.insert(args.end(), command.begin(), command.end());
    ExpectUsageError(args, {"cut.so is not a loadable shared library", "truncated?"});
  }
  // plugins verify gives the file its verdict in its report (stdout) and the reason on stderr.
  CliResult r = Cli({"--config", config_, "--plugin-dir", plugins, "plugins", "verify"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("cut.so is not a loadable shared library")) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("refused")) << Describe(r);
}

TEST_F(CliErrorTest, UnknownSectionKeyNamesKeyAndFile) {
  std::string conf = WriteConfig("\n[cache]\nsize = 10\n", "bad.conf");
  ExpectUsageError({"--config", conf, "tenants", "list"}, {"unknown config key 'cache.size'", conf});
}

TEST_F(CliErrorTest, MalformedWorkersInConfigNamesKeyValueAndFile) {
  std::string conf = WriteConfig("\n[run]\nworkers = abc\n", "bad.conf");
  ExpectUsageError({"--config", conf, "tenants", "list"}, {"run.workers", "'abc'", conf});
}

TEST_F(CliErrorTest, MalformedLogFormatInConfigNamesKeyAndValue) {
  std::string conf = WriteConfig("\n[log]\nformat = xml\n", "bad.conf");
  ExpectUsageError({"--config", conf, "tenants", "list"}, {"log.format", "'xml'", conf});
}

TEST_F(CliErrorTest, MalformedDurationInConfigNamesKeyAndValue) {
  std::string conf = WriteConfig("\n[run]\nlease = forever\n", "bad.conf");
  ExpectUsageError({"--config", conf, "tenants", "list"}, {"run.lease", "'forever'"});
}

TEST_F(CliErrorTest, KeySetTwiceInConfigIsAnError) {
  std::string conf = WriteConfig("\n[log]\nlevel = info\nlevel = debug\n", "bad.conf");
  ExpectUsageError({"--config", conf, "tenants", "list"}, {"log.level", "twice"});
}

TEST_F(CliErrorTest, MalformedValueInEnvironmentNamesTheVariable) {
  ExpectUsageError({"tenants", "list"}, {"run.workers", "MATIH_RUN_WORKERS", "'abc'"},
                   {{"MATIH_RUN_WORKERS", "abc"}});
}

TEST_F(CliErrorTest, MissingConfigFileExitsTwoNamingIt) {
  ExpectUsageError({"--config", dir_ + "/missing.conf", "tenants", "list"},
                   {"cannot read config file", dir_ + "/missing.conf"});
}

TEST_F(CliErrorTest, MissingConfigFileFromEnvironmentExitsTwoNamingIt) {
  const std::string before = Snapshot();
  CliResult r = Raw({"tenants", "list"},
                    {{"MATIH_CONFIG", dir_ + "/missing.conf"}, {"MATIH_DATABASE_URL", db_->url()}});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("cannot read config file " + dir_ + "/missing.conf")) << Describe(r);
  EXPECT_EQ(Snapshot(), before);
}

// A directory opens as a stream but has no content: it must not pass as an empty config.
TEST_F(CliErrorTest, ConfigPathThatIsADirectoryExitsTwo) {
  ExpectUsageError({"--config", state_dir_, "--database-url", db_->url(), "tenants", "list"}, {state_dir_});
}

TEST_F(CliErrorTest, MissingDatabaseUrlExitsTwoSayingHowToSetIt) {
  const std::string before = Snapshot();
  CliResult r = Raw({"tenants", "list"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("no database configured")) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("MATIH_DATABASE_URL")) << Describe(r);
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(CliErrorTest, NoCommandExitsTwoWithUsageOnStderr) {
  CliResult r = Raw({});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("Usage: matih-provisioner")) << Describe(r);
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace matih::testing
