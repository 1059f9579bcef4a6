// ConfigLoader::Load on its own: precedence (flag > environment > file > default), unknown
// keys, the open [targets] section, repeatable keys and durations. The environment is a map
// handed in, so these tests never depend on the process's own variables.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/environment_check.h"
#include "config/runner_config.h"

namespace matih::runner {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

using Env = std::map<std::string, std::string>;

class ConfigLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "matih-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string File(const std::string& text) {
    std::string path = dir_ + "/runner.conf";
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  }
  Result<RunnerConfig> Load(const ConfigOverrides& flags, const std::optional<std::string>& file,
                            const Env& env = {}) {
    return ConfigLoader::Load(flags, file, &env);
  }
  std::string dir_;
};

TEST_F(ConfigLoaderTest, DefaultsApplyWhenNothingIsSet) {
  auto c = Load({}, std::nullopt);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->database_url, "");
  EXPECT_EQ(c->catalog_file, "config/catalog.yaml");
  EXPECT_EQ(c->log_format, LogFormat::kText);
  EXPECT_EQ(c->log_level, "info");
  EXPECT_EQ(c->run_limit, 50);
  EXPECT_EQ(c->run_workers, 4);
  EXPECT_EQ(c->lease, Millis(60'000));
  EXPECT_EQ(c->drift_interval, Millis(86'400'000));
  EXPECT_EQ(c->engine.failure_policy, FailurePolicy::kRollback);
  EXPECT_THAT(c->regions, ElementsAre("eastus"));
  EXPECT_TRUE(c->plugin_dirs.empty());
}

TEST_F(ConfigLoaderTest, FileBeatsDefault) {
  auto c = Load({}, File("[run]\nworkers = 9\n[log]\nformat = json\n"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->run_workers, 9);
  EXPECT_EQ(c->log_format, LogFormat::kJson);
}

TEST_F(ConfigLoaderTest, EnvironmentBeatsFile) {
  auto c = Load({}, File("[run]\nworkers = 9\n[database]\nurl = postgresql://file/db\n"),
                {{"MATIH_RUN_WORKERS", "7"}, {"MATIH_DATABASE_URL", "postgresql://env/db"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->run_workers, 7);
  EXPECT_EQ(c->database_url, "postgresql://env/db");
}

TEST_F(ConfigLoaderTest, FlagBeatsEnvironmentAndFile) {
  auto c = Load({{"database.url", {"postgresql://flag/db"}}, {"log.format", {"text"}}},
                File("[database]\nurl = postgresql://file/db\n[log]\nformat = json\n"),
                {{"MATIH_DATABASE_URL", "postgresql://env/db"}, {"MATIH_LOG_FORMAT", "json"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->database_url, "postgresql://flag/db");
  EXPECT_EQ(c->log_format, LogFormat::kText);
}

TEST_F(ConfigLoaderTest, PrecedenceIsPerKey) {
  auto c = Load({{"log.level", {"debug"}}}, File("[run]\nlimit = 11\nworkers = 9\n"),
                {{"MATIH_RUN_WORKERS", "7"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->log_level, "debug");     // flag
  EXPECT_EQ(c->run_workers, 7);         // environment
  EXPECT_EQ(c->run_limit, 11);          // file
  EXPECT_EQ(c->lease, Millis(60'000));  // default
}

TEST_F(ConfigLoaderTest, ConfigFileComesFromMatihConfigWhenNotGiven) {
  std::string path = File("[run]\nworkers = 5\n");
  auto c = Load({}, std::nullopt, {{"MATIH_CONFIG", path}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->run_workers, 5);
  EXPECT_EQ(c->config_file, path);
}

TEST_F(ConfigLoaderTest, ConfigFileArgumentBeatsMatihConfig) {
  std::string path = File("[run]\nworkers = 5\n");
  auto c = Load({}, path, {{"MATIH_CONFIG", dir_ + "/missing.conf"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->run_workers, 5);
}

TEST_F(ConfigLoaderTest, UnknownKeyInFileNamesKeyAndFile) {
  std::string path = File("[run]\nworkers = 2\nturbo = on\n");
  auto c = Load({}, path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("run.turbo"));
  EXPECT_THAT(c.status().message(), HasSubstr(path));
}

TEST_F(ConfigLoaderTest, KeyOutsideAnySectionIsUnknown) {
  auto c = Load({}, File("workers = 2\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("'workers'"));
}

TEST_F(ConfigLoaderTest, UnknownFlagSettingIsAnError) {
  auto c = Load({{"run.turbo", {"on"}}}, std::nullopt);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("run.turbo"));
}

TEST_F(ConfigLoaderTest, UnreadableFileIsAnErrorNamingIt) {
  auto c = Load({}, dir_ + "/missing.conf");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr(dir_ + "/missing.conf"));
}

TEST_F(ConfigLoaderTest, DirectoryAsConfigFileIsAnError) {
  auto c = Load({}, dir_);
  EXPECT_FALSE(c.ok()) << "a directory was accepted as an empty config file";
}

TEST_F(ConfigLoaderTest, TargetsSectionIsPassedThroughAsIs) {
  auto c = Load({}, File("[targets]\nredis.url = redis://127.0.0.1:6379\nanything.at.all = 42\n"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->engine.settings.at("redis.url"), "redis://127.0.0.1:6379");
  EXPECT_EQ(c->engine.settings.at("anything.at.all"), "42");
}

TEST_F(ConfigLoaderTest, RegionsReachPluginsAsTheTenantRegionsSetting) {
  auto c = Load({}, File("[tenants]\nregions = eastus, westeurope\n"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_THAT(c->regions, ElementsAre("eastus", "westeurope"));
  EXPECT_EQ(c->engine.settings.at("tenant.regions"), "eastus,westeurope");
}

TEST_F(ConfigLoaderTest, PluginsDirIsRepeatableInTheFile) {
  auto c = Load({}, File("[plugins]\ndir = /opt/a\ndir = /opt/b\n"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_THAT(c->plugin_dirs, ElementsAre("/opt/a", "/opt/b"));
}

TEST_F(ConfigLoaderTest, PluginsDirFromEnvironmentIsColonSeparated) {
  auto c = Load({}, File("[plugins]\ndir = /opt/file\n"), {{"MATIH_PLUGINS_DIR", "/opt/a:/opt/b"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_THAT(c->plugin_dirs, ElementsAre("/opt/a", "/opt/b"));
}

TEST_F(ConfigLoaderTest, PluginDirFlagsReplaceTheOtherSources) {
  auto c = Load({{"plugins.dir", {"/opt/x", "/opt/y"}}}, File("[plugins]\ndir = /opt/file\n"),
                {{"MATIH_PLUGINS_DIR", "/opt/env"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_THAT(c->plugin_dirs, ElementsAre("/opt/x", "/opt/y"));
}

TEST_F(ConfigLoaderTest, DatabaseUrlFromEnvironmentKeepsItsColons) {
  auto c = Load({}, std::nullopt, {{"MATIH_DATABASE_URL", "postgresql://u:p@127.0.0.1:5432/db"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->database_url, "postgresql://u:p@127.0.0.1:5432/db");
}

TEST_F(ConfigLoaderTest, NonRepeatableKeySetTwiceInFileIsAnError) {
  auto c = Load({}, File("[run]\nworkers = 2\nworkers = 3\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("run.workers"));
  EXPECT_THAT(c.status().message(), HasSubstr("twice"));
}

TEST_F(ConfigLoaderTest, DurationsParseInEveryUnit) {
  auto c = Load({}, File("[run]\nlease = 90s\nheartbeat = 250ms\ndrift_interval = 12h\ndeadline = 30m\n"
                         "backoff = 5s\nmax_backoff = 1h\n[tenants]\ngrace_period = 7d\n"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->lease, Millis(90'000));
  EXPECT_EQ(c->heartbeat, Millis(250));
  EXPECT_EQ(c->drift_interval, Millis(12 * 3'600'000));
  EXPECT_EQ(c->engine.provisioning_deadline, Millis(30 * 60'000));
  EXPECT_EQ(c->engine.tenant_backoff.initial_backoff, Millis(5'000));
  EXPECT_EQ(c->engine.tenant_backoff.max_backoff, Millis(3'600'000));
  EXPECT_EQ(c->grace_period, Millis(7LL * 86'400'000));
}

TEST_F(ConfigLoaderTest, MalformedDurationNamesKeyAndSource) {
  auto c = Load({}, std::nullopt, {{"MATIH_RUN_LEASE", "forever"}});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("run.lease"));
  EXPECT_THAT(c.status().message(), HasSubstr("MATIH_RUN_LEASE"));
  EXPECT_THAT(c.status().message(), HasSubstr("forever"));
}

TEST_F(ConfigLoaderTest, DurationWithoutUnitIsRejected) {
  auto c = Load({}, File("[run]\nlease = 60\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("run.lease"));
}

TEST_F(ConfigLoaderTest, WorkersMustBeAWholeNumber) {
  auto c = Load({}, File("[run]\nworkers = abc\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("run.workers"));
  EXPECT_THAT(c.status().message(), HasSubstr("'abc'"));
}

TEST_F(ConfigLoaderTest, WorkersWithTrailingGarbageIsRejected) {
  auto c = Load({}, File("[run]\nworkers = 4x\n"));
  EXPECT_FALSE(c.ok());
}

TEST_F(ConfigLoaderTest, WorkersOutOfRangeIsRejected) {
  auto c = Load({{"run.workers", {"0"}}}, std::nullopt);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("out of range"));
  EXPECT_THAT(c.status().message(), HasSubstr("command line"));
}

TEST_F(ConfigLoaderTest, LogFormatMustBeTextOrJson) {
  auto c = Load({}, File("[log]\nformat = xml\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("log.format"));
  EXPECT_THAT(c.status().message(), HasSubstr("'xml'"));
}

TEST_F(ConfigLoaderTest, FailurePolicyMustBeRollbackOrPark) {
  auto park = Load({}, File("[run]\nfailure_policy = park\n"));
  ASSERT_TRUE(park.ok()) << park.status().ToString();
  EXPECT_EQ(park->engine.failure_policy, FailurePolicy::kPark);
  auto bad = Load({}, File("[run]\nfailure_policy = shrug\n"));
  EXPECT_FALSE(bad.ok());
}

TEST_F(ConfigLoaderTest, HeartbeatMustBeShorterThanLease) {
  auto c = Load({}, File("[run]\nlease = 10s\nheartbeat = 10s\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("run.heartbeat"));
}

TEST_F(ConfigLoaderTest, DefaultRegionMustBeAConfiguredRegion) {
  auto c = Load({}, File("[tenants]\nregions = westeurope\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("default_region"));
}

TEST_F(ConfigLoaderTest, PluginPinNeedsFileAndSha256) {
  auto good = Load({}, File("[plugins]\npin = libx.so=" + std::string(64, 'a') + "\n"));
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->plugin_pins.at("libx.so"), std::string(64, 'a'));
  auto bad = Load({}, File("[plugins]\npin = libx.so\n"));
  EXPECT_FALSE(bad.ok());
}

TEST_F(ConfigLoaderTest, EveryDocumentedKeyHasAnEnvironmentName) {
  for (const auto& key : ConfigLoader::Keys()) {
    std::string env = ConfigLoader::EnvName(key);
    EXPECT_EQ(env.rfind("MATIH_", 0), 0u) << key;
    EXPECT_EQ(env.find('.'), std::string::npos) << key;
  }
  EXPECT_EQ(ConfigLoader::EnvName("run.drift_interval"), "MATIH_RUN_DRIFT_INTERVAL");
}

// Unknown MATIH_* variables (runner/config/environment_check.h): a typo is an error naming the
// variable and the nearest known name; the local stack's and the scripts' variables are not.
TEST_F(ConfigLoaderTest, MisspelledVariableIsRefusedWithTheNearestName) {
  auto c = Load({}, std::nullopt, {{"MATIH_RUN_WORKRES", "8"}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("unknown environment variable MATIH_RUN_WORKRES"));
  EXPECT_THAT(c.status().message(), HasSubstr("did you mean MATIH_RUN_WORKERS?"));

  c = Load({}, std::nullopt, {{"MATIH_DATABSE_URL", "postgresql://x@127.0.0.1/db"}});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("MATIH_DATABSE_URL"));
  EXPECT_THAT(c.status().message(), HasSubstr("did you mean MATIH_DATABASE_URL?"));
}

TEST_F(ConfigLoaderTest, FarFromAnyNameIsRefusedWithoutASuggestion) {
  auto c = Load({}, std::nullopt, {{"MATIH_FROBNICATE", "1"}});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("unknown environment variable MATIH_FROBNICATE"));
  EXPECT_THAT(c.status().message(), Not(HasSubstr("did you mean")));
}

TEST_F(ConfigLoaderTest, PluginSettingsInTheEnvironmentPointToTheTargetsSection) {
  auto c = Load({}, std::nullopt, {{"MATIH_TARGETS_CONTROLPLANE_URL", "x"}});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("[targets] section of the config file"));
}

TEST_F(ConfigLoaderTest, OtherVariablesAndTheRunnersOwnAreAccepted) {
  auto c = Load({}, std::nullopt,
                {{"PATH", "/usr/bin"},
                 {"MATIHX", "1"},
                 {"matih_run_workres", "1"},
                 {"MATIH_RUN_WORKERS", "8"},
                 {"MATIH_SECRET_KEY", "00"},
                 {"MATIH_JOBS", "2"},
                 {"MATIH_PORT_BASE", "23000"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->run_workers, 8);
}

TEST_F(ConfigLoaderTest, TheLocalStacksVariablesAreIgnoredButATypoBesideThemIsNot) {
  fs::create_directories(dir_ + "/var");
  std::ofstream(dir_ + "/var/stack.env")
      << "# written by scripts/stack up\nMATIH_STACK_ROOT=" << dir_
      << "\nMATIH_PG_PORT=5\nMATIH_DATABASE_URL=postgresql://p@127.0.0.1:5/matih\n"
         "MATIH_PUSHGATEWAY_URL=http://127.0.0.1:6\n";
  Env env = {{"MATIH_STACK_ROOT", dir_},
             {"MATIH_PG_PORT", "5"},
             {"MATIH_PUSHGATEWAY_URL", "http://127.0.0.1:6"},
             {"MATIH_DATABASE_URL", "postgresql://p@127.0.0.1:5/matih"}};
  auto c = Load({}, std::nullopt, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->database_url, "postgresql://p@127.0.0.1:5/matih")
      << "a stack variable that is a setting stays one";

  env["MATIH_RUN_WORKRES"] = "8";
  c = Load({}, std::nullopt, env);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("MATIH_RUN_WORKRES"));

  // Without the stack's file, its names are nobody's.
  env.erase("MATIH_RUN_WORKRES");
  fs::remove(dir_ + "/var/stack.env");
  c = Load({}, std::nullopt, env);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("unknown environment variable MATIH_PG_PORT"));
  EXPECT_THAT(c.status().message(), HasSubstr("cannot be read"));
}

TEST_F(ConfigLoaderTest, NearestNameIsTheClosestWithinReach) {
  const std::vector<std::string> known = {"MATIH_RUN_WORKERS", "MATIH_RUN_LIMIT", "MATIH_LOG_LEVEL"};
  EXPECT_EQ(NearestName("MATIH_RUN_WORKER", known), "MATIH_RUN_WORKERS");
  EXPECT_EQ(NearestName("MATIH_RUN_LIMTI", known), "MATIH_RUN_LIMIT");
  EXPECT_EQ(NearestName("MATIH_LOG_LEVLE", known), "MATIH_LOG_LEVEL");
  EXPECT_EQ(NearestName("MATIH_FROBNICATE", known), "");
  EXPECT_EQ(NearestName("MATIH_X", known), "");
}

}  // namespace
}  // namespace matih::runner
