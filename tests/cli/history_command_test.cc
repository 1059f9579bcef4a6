// `history --all --since D [--step N] [--event E]`: the fleet's audit trail, filtered (issue 15:
// "what changed last night"). Two tenants provisioned by real runs, plus one event written two
// days ago straight into the table (the trail is append-only, so a test cannot age an event;
// an INSERT is what an old event looks like), so --since has something to leave out.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <set>

#include "cli_fixture.h"

namespace matih::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

class HistoryCommandTest : public CliTest {
 protected:
  void SetUp() override {
    ShareSeed(
        [this] {
          ASSERT_NO_FATAL_FAILURE(Migrate());
          ASSERT_NO_FATAL_FAILURE(AddActiveTenant("alpha-co", "free"));
          ASSERT_NO_FATAL_FAILURE(AddActiveTenant("beta-co", "starter"));
          pqxx::connection c(db_->url());
          pqxx::work tx(c);
          tx.exec(
              "INSERT INTO matih.audit_events (tenant_id, seq, created_at, event, step_number, step_name, "
              "prev_hash, hash) SELECT id, 1000, now() - interval '2 days', 'operator.old', 2, "
              "'create-tenant-record', '', 'old' FROM matih.tenants WHERE slug = 'alpha-co'");
          tx.commit();
        },
        /*check_unchanged=*/true);
  }

  // The events of `history ARGS --format json`, checked to be the filtered form.
  Json Events(std::vector<std::string> args, int64_t* left_out = nullptr) {
    args.insert(args.begin(), "history");
    args.push_back("--format");
    args.push_back("json");
    CliResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(j.is_object()) << Describe(r);
    if (!j.is_object()) return Json::array();
    if (left_out) *left_out = j["left_out"].get<int64_t>();
    return j["events"];
  }

  int64_t Count(const std::string& where) {
    return std::stoll(
        Query("SELECT count(*) FROM matih.audit_events a JOIN matih.tenants t ON t.id = a.tenant_id "
              "WHERE " +
              where));
  }
};

TEST_F(HistoryCommandTest, AllListsEveryTenantsEventsOldestFirst) {
  Json events = Events({"--all", "--since", "1h"});
  ASSERT_EQ(static_cast<int64_t>(events.size()), Count("a.created_at > now() - interval '1 hour'"));
  std::set<std::string> tenants;
  std::string previous;
  for (const auto& e : events) {
    tenants.insert(e["tenant"].get<std::string>());
    for (const char* k : {"tenant", "seq", "time", "event", "step_number", "step_name", "runner", "details"})
      EXPECT_TRUE(e.contains(k)) << k << " missing in " << e.dump();
    EXPECT_GE(e["time"].get<std::string>(), previous);
    previous = e["time"].get<std::string>();
  }
  EXPECT_EQ(tenants, (std::set<std::string>{"alpha-co", "beta-co"}));
}

TEST_F(HistoryCommandTest, SinceLeavesOutOlderEvents) {
  for (const auto& e : Events({"--all", "--since", "1d"})) EXPECT_NE(e["event"], "operator.old") << e.dump();
  Json three_days = Events({"--all", "--since", "3d", "--event", "operator.old"});
  ASSERT_EQ(three_days.size(), 1u);
  EXPECT_EQ(three_days[0]["tenant"], "alpha-co");
}

TEST_F(HistoryCommandTest, AllWithoutSinceMeansTheLastDay) {
  Json events = Events({"--all"});
  EXPECT_EQ(static_cast<int64_t>(events.size()), Count("a.created_at > now() - interval '1 day'"));
  for (const auto& e : events) EXPECT_NE(e["event"], "operator.old");
}

TEST_F(HistoryCommandTest, StepFiltersByNumberOrName) {
  Json by_number = Events({"--all", "--since", "1h", "--step", "2"});
  ASSERT_FALSE(by_number.empty());
  EXPECT_EQ(static_cast<int64_t>(by_number.size()),
            Count("a.step_number = 2 AND a.created_at > now() - interval '1 hour'"));
  for (const auto& e : by_number) EXPECT_EQ(e["step_number"], 2) << e.dump();
  Json by_name = Events({"--all", "--since", "1h", "--step", "create-tenant-record"});
  EXPECT_EQ(by_name, by_number);
}

TEST_F(HistoryCommandTest, EventFiltersExactlyOrByPrefix) {
  Json adds = Events({"--all", "--since", "1h", "--event", "operator.add"});
  ASSERT_EQ(adds.size(), 2u);
  for (const auto& e : adds) EXPECT_EQ(e["event"], "operator.add");
  Json steps = Events({"--all", "--since", "1h", "--event", "step.*"});
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(static_cast<int64_t>(steps.size()),
            Count("a.event LIKE 'step.%' AND a.created_at > now() - interval '1 hour'"));
  for (const auto& e : steps) EXPECT_EQ(e["event"].get<std::string>().rfind("step.", 0), 0u) << e.dump();
  EXPECT_TRUE(Events({"--all", "--event", "no.such.event"}).empty());
}

TEST_F(HistoryCommandTest, FiltersApplyToOneTenantToo) {
  Json events = Events({"beta-co", "--event", "operator.add"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["tenant"], "beta-co");
}

TEST_F(HistoryCommandTest, LimitKeepsTheNewestAndSaysWhatItLeftOut) {
  int64_t left_out = -1;
  Json events = Events({"--all", "--since", "1h", "--limit", "3"}, &left_out);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(left_out, Count("a.created_at > now() - interval '1 hour'") - 3);
  Json all = Events({"--all", "--since", "1h"});
  EXPECT_EQ(events[2], all.back()) << "the limit must keep the newest events";
  CliResult table = Cli({"history", "--all", "--since", "1h", "--limit", "3"});
  EXPECT_THAT(table.out, HasSubstr("older matching event(s) not shown")) << Describe(table);
}

TEST_F(HistoryCommandTest, TableNamesTheTenantOfEachEvent) {
  CliResult r = Cli({"history", "--all", "--since", "1h", "--event", "operator.add"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("TENANT"));
  EXPECT_THAT(r.out, HasSubstr("alpha-co"));
  EXPECT_THAT(r.out, HasSubstr("beta-co"));
  EXPECT_THAT(r.out, Not(HasSubstr("operator.old")));
}

TEST_F(HistoryCommandTest, PerTenantHistoryWithoutFiltersIsStillTheWholeChain) {
  CliResult r = Cli({"history", "alpha-co", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  Json j = Json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  EXPECT_EQ(static_cast<int64_t>(j.size()), Count("t.slug = 'alpha-co'"));
}

TEST_F(HistoryCommandTest, BadUsageIsRefusedWithExitTwo) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"history"},
                                               {"history", "alpha-co", "--all"},
                                               {"history", "--all", "--since", "soon"},
                                               {"history", "--all", "--limit", "0"}}) {
    CliResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_FALSE(r.err.empty()) << Describe(r);
  }
  CliResult unknown = Cli({"history", "no-such-co", "--since", "1h"});
  EXPECT_NE(unknown.exit_code, 0) << Describe(unknown);
  EXPECT_THAT(unknown.err, HasSubstr("no-such-co"));
}

}  // namespace
}  // namespace matih::testing
