// `status`: the fleet at a glance (issue 15). Its JSON shape is a contract, fixed here key by
// key; its figures are checked against a fleet built by real runs of the test plugin; and it
// must answer in under a second on a database seeded with 100,000 tenants.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <set>
#include <sstream>

#include "cli_fixture.h"

namespace matih::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

std::set<std::string> Keys(const Json& j) {
  std::set<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.insert(k);
  return keys;
}

// No config, no database: help needs neither, and lists the command's options.
TEST(OperatorKitHelp, StatusAndHistoryHelpNeedNoDatabase) {
  CliRunner cli(MATIH_PROVISIONER_BIN);
  CliResult status = cli.Run({"status", "--help"});
  EXPECT_EQ(status.exit_code, 0) << Describe(status);
  EXPECT_THAT(status.out, HasSubstr("Usage: matih-provisioner status [--format table|json] [--limit N]"));
  CliResult history = cli.Run({"history", "--help"});
  EXPECT_EQ(history.exit_code, 0) << Describe(history);
  for (const char* option : {"--all", "--since", "--step", "--event", "--limit"})
    EXPECT_THAT(history.out, HasSubstr(option)) << Describe(history);
  CliResult top = cli.Run({"--help"});
  EXPECT_THAT(top.out, HasSubstr("status [--format table|json]"));
  EXPECT_THAT(top.out, HasSubstr("history SLUG | --all"));
}

// A small fleet, made by the real binary: pending-co (starter, PENDING), active-co (free,
// ACTIVE, then made overdue for drift), fail-co (free; step 2 fails permanently, so its run
// ends FAILED or ROLLED_BACK with exit code 3), and a live lease held by "runner-x".
class StatusCommandTest : public CliTest {
 protected:
  void SetUp() override {
    ShareSeed(
        [this] {
          ASSERT_NO_FATAL_FAILURE(Migrate());
          ASSERT_NO_FATAL_FAILURE(AddTenant("pending-co", "starter"));
          ASSERT_NO_FATAL_FAILURE(AddActiveTenant("active-co", "free"));
          const std::string good_catalog = catalog_, good_config = config_;
          catalog_ = WriteCatalog({{2, "{fail: permanent}"}}, "failing.yaml");
          config_ = WriteConfig("", "failing.conf");
          ASSERT_NO_FATAL_FAILURE(AddTenant("fail-co", "free"));
          CliResult r = Cli({"run", "--tenant", "fail-co"});
          ASSERT_EQ(r.exit_code, 3) << Describe(r);
          catalog_ = good_catalog;
          config_ = good_config;
          pqxx::connection c(db_->url());
          pqxx::work tx(c);
          tx.exec(
              "UPDATE matih.tenants SET last_reconciled_at = now() - interval '3 days' WHERE slug = "
              "'active-co'");
          tx.exec(
              "UPDATE matih.tenants SET lease_owner = 'runner-x', lease_expires_at = now() + interval '1 "
              "hour' "
              "WHERE slug = 'pending-co'");
          tx.commit();
        },
        /*check_unchanged=*/true);
  }

  Json StatusJson() {
    CliResult r = Cli({"status", "--format", "json"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << "stdout is not JSON\n" << Describe(r);
    return j;
  }
};

TEST_F(StatusCommandTest, JsonShapeIsFixed) {
  Json j = StatusJson();
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(Keys(j), (std::set<std::string>{"as_of", "tenants", "pending", "failed", "drift_overdue", "runs",
                                            "leases", "failing_steps_24h"}));
  EXPECT_EQ(Keys(j["tenants"]), (std::set<std::string>{"total", "by_status", "by_tier", "by_status_tier"}));
  ASSERT_FALSE(j["tenants"]["by_status_tier"].empty());
  EXPECT_EQ(Keys(j["tenants"]["by_status_tier"][0]), (std::set<std::string>{"status", "tier", "count"}));
  EXPECT_EQ(Keys(j["pending"]), (std::set<std::string>{"count", "oldest"}));
  EXPECT_EQ(Keys(j["pending"]["oldest"]),
            (std::set<std::string>{"slug", "tier", "created_at", "waiting_seconds"}));
  EXPECT_EQ(Keys(j["failed"]), (std::set<std::string>{"count", "tenants"}));
  ASSERT_EQ(j["failed"]["tenants"].size(), 1u);
  EXPECT_EQ(Keys(j["failed"]["tenants"][0]),
            (std::set<std::string>{"slug", "tier", "status", "since", "failing_step", "last_error"}));
  EXPECT_EQ(Keys(j["failed"]["tenants"][0]["failing_step"]), (std::set<std::string>{"number", "name"}));
  EXPECT_EQ(Keys(j["drift_overdue"]), (std::set<std::string>{"count", "interval_seconds", "tenants"}));
  ASSERT_EQ(j["drift_overdue"]["tenants"].size(), 1u);
  EXPECT_EQ(Keys(j["drift_overdue"]["tenants"][0]),
            (std::set<std::string>{"slug", "tier", "last_reconciled_at"}));
  ASSERT_EQ(j["runs"].size(), 2u);
  EXPECT_EQ(Keys(j["runs"][0]), (std::set<std::string>{"id", "runner", "mode", "started_at", "finished_at",
                                                       "duration_seconds", "tenants_claimed", "tenants_ok",
                                                       "tenants_failed", "exit_code", "outcome"}));
  ASSERT_EQ(j["leases"].size(), 1u);
  EXPECT_EQ(Keys(j["leases"][0]),
            (std::set<std::string>{"owner", "tenants", "earliest_expiry", "latest_expiry"}));
  ASSERT_EQ(j["failing_steps_24h"].size(), 1u);
  EXPECT_EQ(Keys(j["failing_steps_24h"][0]),
            (std::set<std::string>{"number", "name", "failures", "tenants"}));
}

TEST_F(StatusCommandTest, CountsTenantsByStatusAndTier) {
  Json j = StatusJson();
  EXPECT_EQ(j["tenants"]["total"], 3);
  EXPECT_EQ(j["tenants"]["by_status"]["PENDING"], 1);
  EXPECT_EQ(j["tenants"]["by_status"]["ACTIVE"], 1);
  EXPECT_EQ(j["tenants"]["by_tier"]["free"], 2);
  EXPECT_EQ(j["tenants"]["by_tier"]["starter"], 1);
  EXPECT_EQ(j["tenants"]["by_status_tier"].size(), 3u);
}

TEST_F(StatusCommandTest, NamesTheOldestPendingTenantAndItsWait) {
  Json j = StatusJson();
  EXPECT_EQ(j["pending"]["count"], 1);
  EXPECT_EQ(j["pending"]["oldest"]["slug"], "pending-co");
  EXPECT_EQ(j["pending"]["oldest"]["tier"], "starter");
  const std::string age = Query(
      "SELECT floor(extract(epoch FROM now() - created_at))::bigint FROM matih.tenants WHERE slug = "
      "'pending-co'");
  EXPECT_NEAR(j["pending"]["oldest"]["waiting_seconds"].get<double>(), std::stod(age), 5.0);
}

TEST_F(StatusCommandTest, ShowsAFailedTenantWithItsFailingStep) {
  Json j = StatusJson();
  EXPECT_EQ(j["failed"]["count"], 1);
  const Json& t = j["failed"]["tenants"][0];
  EXPECT_EQ(t["slug"], "fail-co");
  EXPECT_THAT(t["status"].get<std::string>(), ::testing::AnyOf("FAILED", "ROLLED_BACK"));
  EXPECT_EQ(t["failing_step"]["number"], 2);
  EXPECT_EQ(t["failing_step"]["name"], "create-tenant-record");
}

TEST_F(StatusCommandTest, ListsTenantsPastTheirDriftInterval) {
  Json j = StatusJson();
  EXPECT_EQ(j["drift_overdue"]["count"], 1);
  EXPECT_EQ(j["drift_overdue"]["interval_seconds"], 86400);
  EXPECT_EQ(j["drift_overdue"]["tenants"][0]["slug"], "active-co");
  // A longer interval makes nobody overdue: the figure follows run.drift_interval.
  CliResult r = Cli({"status", "--format", "json"}, {{"MATIH_RUN_DRIFT_INTERVAL", "7d"}});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  Json longer = Json::parse(r.out);
  EXPECT_EQ(longer["drift_overdue"]["count"], 0) << r.out;
  EXPECT_EQ(longer["drift_overdue"]["interval_seconds"], 7 * 86400);
}

TEST_F(StatusCommandTest, ShowsTheLastRunsWithOutcomeAndExitCode) {
  Json j = StatusJson();
  ASSERT_EQ(j["runs"].size(), 2u);
  // Newest first: fail-co's run, then active-co's.
  EXPECT_EQ(j["runs"][0]["exit_code"], 3);
  EXPECT_EQ(j["runs"][0]["outcome"], "tenants_failed");
  EXPECT_EQ(j["runs"][0]["tenants_failed"], 1);
  EXPECT_EQ(j["runs"][1]["exit_code"], 0);
  EXPECT_EQ(j["runs"][1]["outcome"], "ok");
  EXPECT_EQ(j["runs"][1]["tenants_ok"], 1);
  EXPECT_TRUE(j["runs"][1]["duration_seconds"].is_number()) << j["runs"][1].dump();
  EXPECT_FALSE(j["runs"][1]["runner"].get<std::string>().empty());
}

TEST_F(StatusCommandTest, ShowsLeasesHeldAndByWhom) {
  Json j = StatusJson();
  EXPECT_EQ(j["leases"][0]["owner"], "runner-x");
  EXPECT_EQ(j["leases"][0]["tenants"], 1);
}

TEST_F(StatusCommandTest, CountsTheStepsThatFailedMostInTheLastDay) {
  Json j = StatusJson();
  EXPECT_EQ(j["failing_steps_24h"][0]["number"], 2);
  EXPECT_EQ(j["failing_steps_24h"][0]["name"], "create-tenant-record");
  EXPECT_GE(j["failing_steps_24h"][0]["failures"].get<int>(), 1);
  EXPECT_EQ(j["failing_steps_24h"][0]["tenants"], 1);
}

TEST_F(StatusCommandTest, TableShowsEverySection) {
  CliResult r = Cli({"status"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  for (const char* s : {"3 tenant(s)", "STATUS", "PROFESSIONAL", "PENDING: 1; oldest pending-co (starter)",
                        "FAILED or ROLLED_BACK: 1", "fail-co", "2 create-tenant-record",
                        "PAST DRIFT INTERVAL (1.0d): 1", "active-co", "LAST RUNS", "tenants_failed",
                        "LEASES HELD", "runner-x", "STEPS THAT FAILED MOST (24 h)"})
    EXPECT_THAT(r.out, HasSubstr(s)) << Describe(r);
}

TEST_F(StatusCommandTest, RefusesABadFormatOrLimit) {
  EXPECT_EQ(Cli({"status", "--format", "yaml"}).exit_code, 2);
  CliResult r = Cli({"status", "--limit", "0"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("--limit"));
}

TEST_F(StatusCommandTest, DatabaseUnreachableExitsFour) {
  ClosedPort closed;
  CliResult r =
      Cli({"status"},
          {{"MATIH_DATABASE_URL", "postgresql://x@127.0.0.1:" + std::to_string(closed.port()) + "/x"}});
  EXPECT_EQ(r.exit_code, 4) << Describe(r);
}

// What a run leaves for `status` and the alerts: its exit code in matih.runs, the tenants gauge
// from one aggregate query, and the oldest PENDING tenant's creation time (absent when none is
// PENDING), read from the node_exporter textfile the run writes.
class RunRecordsTest : public CliTest {
 protected:
  std::string Metrics() {
    std::ifstream in(dir_ + "/metrics.prom");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

TEST_F(RunRecordsTest, RunRecordsExitCodeAndPendingGauges) {
  config_ = WriteConfig("\n[metrics]\ntextfile = " + dir_ + "/metrics.prom\n", "metrics.conf");
  ASSERT_NO_FATAL_FAILURE(Migrate());
  ASSERT_NO_FATAL_FAILURE(AddTenant("waiting-co", "free"));
  ASSERT_NO_FATAL_FAILURE(AddTenant("go-co", "free"));
  CliResult r = Cli({"run", "--tenant", "go-co"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Query("SELECT string_agg(exit_code::text, ',') FROM matih.runs"), "0");
  std::string text = Metrics();
  EXPECT_THAT(text, HasSubstr("matih_provisioner_tenants{status=\"PENDING\"} 1"));
  EXPECT_THAT(text, HasSubstr("matih_provisioner_tenants{status=\"ACTIVE\"} 1"));
  EXPECT_THAT(text, HasSubstr("matih_provisioner_tenants{status=\"FAILED\"} 0"));
  const double created = std::stod(
      Query("SELECT extract(epoch FROM created_at)::float8 FROM matih.tenants WHERE slug = 'waiting-co'"));
  const std::string name = "matih_provisioner_oldest_pending_created_timestamp_seconds ";
  auto at = text.find("\n" + name);
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_NEAR(std::stod(text.substr(at + 1 + name.size())), created, 1.0) << text;

  r = Cli({"run", "--tenant", "waiting-co"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  text = Metrics();
  EXPECT_THAT(text, HasSubstr("matih_provisioner_tenants{status=\"PENDING\"} 0"));
  EXPECT_THAT(text, Not(HasSubstr("\n" + name))) << "no tenant is PENDING any more";
}

// 100,000 tenants (one INSERT ... SELECT generate_series), with a spread of statuses, tiers,
// reconcile times and leases, 200,000 audit events (20,000 of them step.failed in the last day)
// and 5,000 runs, vacuumed and analysed as autovacuum would leave them. The bound is the issue's:
// under one second for the whole command (process start, connect, every query, output), for
// each of two calls after a first one that warms the cache. Measured on the shared 2-core
// machine under load: 0.27 s (table) and 0.36 s (json) in Release. The bound is generous for
// Release and still real for the ASan build; a query that loaded every tenant, or lost its
// index, would show here first.
class StatusAtScaleTest : public CliTest {};

TEST_F(StatusAtScaleTest, AnswersInUnderASecondAt100000Tenants) {
  ASSERT_NO_FATAL_FAILURE(Migrate());
  {
    pqxx::connection c(db_->url());
    pqxx::work tx(c);
    tx.exec(R"sql(
      INSERT INTO matih.tenants (slug, tier, region, admin_email, status, created_at, last_reconciled_at,
                                 lease_owner, lease_expires_at, last_error)
      SELECT 't' || i,
             (ARRAY['free', 'starter', 'professional', 'enterprise'])[1 + i % 4],
             'eu-west', 'admin@t' || i || '.example',
             (ARRAY['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'PENDING', 'FAILED',
                    'ROLLED_BACK', 'SUSPENDED'])[1 + i % 10],
             now() - (i % 1000) * interval '1 hour',
             CASE WHEN i % 7 = 0 THEN NULL ELSE now() - (i % 72) * interval '1 hour' END,
             CASE WHEN i % 100 = 0 THEN 'runner-' || (i % 3) END,
             CASE WHEN i % 100 = 0 THEN now() + interval '1 minute' END,
             CASE WHEN i % 10 IN (7, 8) THEN 'step failed' END
        FROM generate_series(1, 100000) AS i)sql");
    tx.exec(R"sql(
      INSERT INTO matih.audit_events (tenant_id, seq, created_at, event, step_number, step_name, prev_hash, hash)
      SELECT t.id, s, now() - (s * 6) * interval '1 hour',
             CASE WHEN s = 1 AND t.status IN ('FAILED', 'ROLLED_BACK') THEN 'step.failed' ELSE 'step.finished' END,
             1 + (hashtext(t.slug) & 63) % 56, 'step-' || (1 + (hashtext(t.slug) & 63) % 56), '', 'x'
        FROM matih.tenants t, generate_series(1, 2) AS s)sql");
    tx.exec(R"sql(
      INSERT INTO matih.runs (id, runner, mode, started_at, finished_at, tenants_claimed, tenants_ok, exit_code)
      SELECT gen_random_uuid(), 'runner-' || (i % 3), 'all', now() - i * interval '1 hour',
             now() - i * interval '1 hour' + interval '5 minutes', 100, 100, 0
        FROM generate_series(1, 5000) AS i)sql");
    tx.commit();
    pqxx::nontransaction vacuum(c);
    vacuum.exec("VACUUM ANALYZE matih.tenants");
    vacuum.exec("VACUUM ANALYZE matih.audit_events");
    vacuum.exec("VACUUM ANALYZE matih.runs");
  }
  ASSERT_EQ(Query("SELECT count(*) FROM matih.tenants"), "100000");

  CliResult warm = Cli({"status", "--format", "json"});
  ASSERT_EQ(warm.exit_code, 0) << Describe(warm);
  for (const char* format : {"json", "table"}) {
    auto start = std::chrono::steady_clock::now();
    CliResult r = Cli({"status", "--format", format});
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    std::cerr << "status --format " << format << " at 100,000 tenants: " << seconds << " s\n";
    EXPECT_LT(seconds, 1.0) << "status --format " << format << " took " << seconds << " s at 100,000 tenants";
  }
  Json j = Json::parse(warm.out);
  EXPECT_EQ(j["tenants"]["total"], 100000);
  EXPECT_EQ(j["tenants"]["by_status"]["PENDING"], 10000);
  EXPECT_EQ(j["failed"]["count"], 20000);
  EXPECT_EQ(j["failed"]["tenants"].size(), 20u);
  EXPECT_EQ(j["pending"]["oldest"]["waiting_seconds"].get<int64_t>() / 3600, 996);
  EXPECT_EQ(j["runs"].size(), 10u);
  EXPECT_EQ(j["leases"].size(), 3u);
  int64_t leased = 0;
  for (const auto& l : j["leases"]) leased += l["tenants"].get<int64_t>();
  EXPECT_EQ(leased, 1000);
  ASSERT_FALSE(j["failing_steps_24h"].empty());
  int64_t failures = 0;
  for (const auto& s : j["failing_steps_24h"]) failures += s["failures"].get<int64_t>();
  EXPECT_GT(failures, 0);
}

}  // namespace
}  // namespace matih::testing
