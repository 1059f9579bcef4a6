// The two SQLSTATE tables, one per side of the step ABI (runner/store/sql_state.h and
// plugins/common/sql_state.h): each class is decided once, and both sides agree on what is
// transient. Class 53 (insufficient resources: too many connections, out of memory or disk) is
// transient on both.
#include "common/sql_state.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/sql_state.h"

namespace matih::runner {
namespace {

struct Case {
  std::string sqlstate;
  bool transient;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"53000", true},  {"53100", true},  {"53200", true},  {"53300", true},  {"53400", true},
      {"08000", true},  {"08001", true},  {"08006", true},  {"57P01", true},  {"57P03", true},
      {"57014", true},  {"40001", true},  {"40P01", true},  {"55P03", true},  {"23505", false},
      {"23503", false}, {"42501", false}, {"42601", false}, {"22P02", false}, {"42P01", false},
      {"XX000", false}, {"55000", false},
  };
  return cases;
}

TEST(SqlState, RunnerAndPluginsAgreeOnWhatIsTransient) {
  for (const Case& c : Cases()) {
    EXPECT_EQ(IsRetryable(CodeForSqlState(c.sqlstate)), c.transient) << "runner, SQLSTATE " << c.sqlstate;
    EXPECT_EQ(plugins::IsTransientSqlState(c.sqlstate), c.transient) << "plugins, SQLSTATE " << c.sqlstate;
  }
}

TEST(SqlState, InsufficientResourcesIsUnavailableOnBothSides) {
  for (const char* state : {"53000", "53100", "53200", "53300", "53400"}) {
    EXPECT_EQ(CodeForSqlState(state), Code::kUnavailable) << state;
    EXPECT_EQ(plugins::StatusForSqlState(state), MATIH_STATUS_UNAVAILABLE) << state;
  }
}

TEST(SqlState, RunnerCodes) {
  EXPECT_EQ(CodeForSqlState("08006"), Code::kUnavailable);
  EXPECT_EQ(CodeForSqlState("57P01"), Code::kUnavailable);
  EXPECT_EQ(CodeForSqlState("40001"), Code::kAborted);
  EXPECT_EQ(CodeForSqlState("40P01"), Code::kAborted);
  EXPECT_EQ(CodeForSqlState("55P03"), Code::kAborted);
  EXPECT_EQ(CodeForSqlState("23505"), Code::kFailedPrecondition);
  EXPECT_EQ(CodeForSqlState("42P01"), Code::kFailedPrecondition);
  EXPECT_TRUE(IsMissingSchema("42P01"));
  EXPECT_TRUE(IsMissingSchema("3F000"));
  EXPECT_TRUE(IsMissingSchema("42703"));
  EXPECT_FALSE(IsMissingSchema("42601"));
  EXPECT_EQ(CodeForSqlState("XX000"), Code::kInternal);
  EXPECT_EQ(CodeForSqlState(""), Code::kInternal);
}

TEST(SqlState, PluginStatuses) {
  EXPECT_EQ(plugins::StatusForSqlState("08001"), MATIH_STATUS_UNAVAILABLE);
  EXPECT_EQ(plugins::StatusForSqlState("40001"), MATIH_STATUS_ABORTED);
  EXPECT_EQ(plugins::StatusForSqlState("55P03"), MATIH_STATUS_ABORTED);
  EXPECT_EQ(plugins::StatusForSqlState("42501"), MATIH_STATUS_PERMISSION_DENIED);
  EXPECT_EQ(plugins::StatusForSqlState("23505"), MATIH_STATUS_FAILED_PRECONDITION);
  EXPECT_EQ(plugins::StatusForSqlState(""), MATIH_STATUS_FAILED_PRECONDITION);
}

}  // namespace
}  // namespace matih::runner
