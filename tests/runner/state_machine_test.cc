#include "model/state_machine.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "runner/runner_fixture.h"

namespace matih::testing {
namespace {

using S = TenantStatus;

TEST(StateMachineTest, AllowsEveryTransitionOfTheDesignTable) {
  const std::pair<S, S> legal[] = {
      {S::kPending, S::kProvisioning},
      {S::kProvisioning, S::kActive},
      {S::kProvisioning, S::kFailed},
      {S::kProvisioning, S::kRollingBack},
      {S::kFailed, S::kProvisioning},
      {S::kFailed, S::kRollingBack},
      {S::kFailed, S::kPendingDeletion},
      {S::kFailed, S::kUpgrading},  // retry of a failed upgrade, or back to the old tier
      {S::kRollingBack, S::kRolledBack},
      {S::kRollingBack, S::kFailed},
      {S::kRolledBack, S::kProvisioning},
      {S::kRolledBack, S::kPendingDeletion},
      {S::kActive, S::kActive},
      {S::kActive, S::kUpgrading},
      {S::kActive, S::kSuspended},
      {S::kActive, S::kPendingDeletion},
      {S::kUpgrading, S::kActive},
      {S::kUpgrading, S::kFailed},
      {S::kSuspended, S::kActive},
      {S::kSuspended, S::kPendingDeletion},
      {S::kPendingDeletion, S::kDeprovisioning},
      {S::kPendingDeletion, S::kActive},
      {S::kDeprovisioning, S::kDeleted},
      {S::kDeprovisioning, S::kFailed},
      {S::kPendingDeletion, S::kFailed},
      {S::kPendingDeletion, S::kRolledBack},
      {S::kPendingDeletion, S::kSuspended},
      {S::kPending, S::kDeleted},
      {S::kFailed, S::kDeprovisioning},  // retry of a failed deletion
  };
  for (const auto& [from, to] : legal)
    EXPECT_TRUE(StateMachine::Allowed(from, to)) << ToString(from) << "->" << ToString(to);
  EXPECT_EQ(StateMachine::Transitions().size(), std::size(legal));
}

TEST(StateMachineTest, RefusesEveryOtherTransitionWithAMessageNamingBoth) {
  int refused = 0;
  for (S from : AllTenantStatuses())
    for (S to : AllTenantStatuses()) {
      if (StateMachine::Allowed(from, to)) continue;
      Status s = StateMachine::Check(from, to);
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(s.code(), Code::kFailedPrecondition);
      EXPECT_NE(s.message().find(std::string(ToString(from)) + " -> " + ToString(to)), std::string::npos);
      ++refused;
    }
  EXPECT_EQ(refused, 11 * 11 - 29);
}

TEST(StateMachineTest, OnlyAnActiveTenantOrACancelledDeletionCanBecomeSuspended) {
  for (S from : AllTenantStatuses())
    EXPECT_EQ(StateMachine::Allowed(from, S::kSuspended), from == S::kActive || from == S::kPendingDeletion);
}

TEST(StateMachineTest, StatusNamesRoundTrip) {
  for (S s : AllTenantStatuses()) EXPECT_EQ(ParseTenantStatus(ToString(s)), s);
  EXPECT_FALSE(ParseTenantStatus("active").has_value());
}

class StateMachineDatabaseTest : public RunnerFixture {};

// The trigger of 0001_core.sql and the code must agree on every pair.
TEST_F(StateMachineDatabaseTest, DatabaseConstraintAgreesWithTheCodeOnEveryPair) {
  Add("pairs");
  pqxx::connection c(db_->url());
  for (S from : AllTenantStatuses())
    for (S to : AllTenantStatuses()) {
      pqxx::work tx(c);
      // Put the row in `from` behind the trigger's back, then try the move through it.
      tx.exec("SET LOCAL session_replication_role = replica");
      tx.exec_params("UPDATE matih.tenants SET status = $1 WHERE slug = 'pairs'", ToString(from));
      tx.exec("SET LOCAL session_replication_role = origin");
      bool accepted = true;
      try {
        pqxx::subtransaction sub(tx);
        sub.exec_params("UPDATE matih.tenants SET status = $1 WHERE slug = 'pairs'", ToString(to));
        sub.commit();
      } catch (const pqxx::sql_error& e) {
        accepted = false;
        EXPECT_NE(std::string(e.what()).find("illegal tenant transition"), std::string::npos);
      }
      bool same = from == to;  // not a transition: the trigger lets an unchanged status through
      EXPECT_EQ(accepted, same || StateMachine::Allowed(from, to))
          << ToString(from) << " -> " << ToString(to);
      tx.abort();
    }
}

}  // namespace
}  // namespace matih::testing
