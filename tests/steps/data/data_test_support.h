// What the tests of plugins/data share: a StepHarness whose data.* settings point at the local
// stack (shared and dedicated tiers at the same servers, as the demo configures them), and small
// helpers to read the servers and the secret store directly.
#pragma once

#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <string>

#include "steps/step_harness.h"

namespace matih::testing {

class DataStepTest : public ::testing::Test {
 protected:
  DataStepTest();

  // A secret of matih-data for `tenant` ("" when absent).
  std::string Secret(const TestTenant& tenant, const std::string& name);
  // One value of one SQL query as the stack's superuser, in `database` ("" = postgres).
  std::string PgValue(const std::string& sql, const std::string& database = "");
  // Runs SQL as the superuser in `database` ("" = postgres).
  void PgExec(const std::string& sql, const std::string& database = "");
  // A libpq connection string for the stack's server as `user`/`password` in `database`.
  static std::string PgConninfo(const std::string& user, const std::string& password,
                                const std::string& database);

  // Expects `answer` to be an error of `status` whose message names the step and `target`.
  static void ExpectError(const runner::StepAnswer& answer, matih_status status, const std::string& step,
                          const std::string& target);

  // A URL on loopback where nothing listens.
  static std::string ClosedPortUrl(const std::string& scheme);

  StepHarness harness_;
};

}  // namespace matih::testing
