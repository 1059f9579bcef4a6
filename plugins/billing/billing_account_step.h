// billing.account (step 47, create-billing-account): the tenant's billing account, its plan and
// its subscription, as rows of the control-plane schema (billing_schema.h), chosen by the
// tenant's tier from the catalog params.
//
// Params (catalog):
//   plans  required  {tier: {code, monthly_price_cents, currency, interval}}:
//                    code      plan code, [a-z0-9-], e.g. "starter-monthly"
//                    monthly_price_cents  non-negative integer
//                    currency  ISO 4217 code, three capital letters
//                    interval  month | year (how often the subscription is invoiced)
//                    Two tiers may share a code only with identical definitions.
// The account's external reference is "acct_<tenant uuid>" and the subscription's
// "sub_<tenant uuid>": both unique in the database, so a retry after a lost commit finds the
// rows it made and never makes two. The billing contact is the spec's admin_email.
//
// observe reports every difference of the plan, account and subscription rows (a price, a
// currency, an e-mail or a status changed by hand, a cancelled or missing subscription) and
// ABSENT when the tenant has no account; apply repairs them in one transaction and writes nothing
// when they already match; remove deletes the account and its subscription. Plans are shared by
// every tenant on them, so remove leaves the plan row in place (apply keeps it matching the
// catalog).
// Settings: billing.database_url. Outputs: billing_account_ref, billing_plan.
// Safe to call from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::billing {

class BillingAccountStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::billing
