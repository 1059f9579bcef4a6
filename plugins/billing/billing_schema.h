// The billing tables of the control-plane schema (plugins/common/control_plane_schema.h), owned
// by role matih_control_plane like the rest of it:
//   control_plane.billing_plans          the plans the platform sells, one row per plan code,
//                                        shared by every tenant on that plan
//   control_plane.billing_accounts       one per tenant (UNIQUE tenant_id), with a unique
//                                        external reference "acct_<tenant uuid>" that the payment
//                                        provider knows the account by: a retried apply finds
//                                        the same row and never makes a second account
//   control_plane.billing_subscriptions  one current subscription per account (UNIQUE
//                                        account_id), external reference "sub_<tenant uuid>"
// Rows of a tenant go with its tenant record (ON DELETE CASCADE).
//
// EnsureBillingTables creates the control-plane schema and then these tables, idempotently, under
// the control-plane schema's advisory lock (EnsureControlPlaneTables); it remembers per URL that
// they exist. Safe to call from any thread, each with its own session.
#pragma once

#include <string>

#include "common/pg_session.h"

namespace matih::plugins::billing {

void EnsureBillingTables(PgSession& session, const std::string& url);
// Whether the billing tables exist, creating nothing (observe, remove).
bool BillingTablesExist(PgSession& session);

}  // namespace matih::plugins::billing
