// matih-billing: phase 6 of provisioning, step 47 (create-billing-account): the tenant's billing
// account, plan and subscription in the control-plane schema (billing_schema.h).
//
// Settings read (runner config, section [targets]; config/targets.example.conf has examples):
//   billing.database_url  required: libpq URL of the control-plane database (usually the same as
//                         controlplane.database_url); the login must be a member of role
//                         matih_control_plane (see plugins/common/control_plane_schema.h)
// Params: billing_account_step.h. No secrets.
#include <matih/step.hpp>

#include "billing/billing_account_step.h"

MATIH_PLUGIN("matih-billing", "1.0.0") {
  plugin.setting("billing.database_url", "libpq URL of the control-plane database", MATIH_SETTING_REQUIRED);
  plugin.add<matih::plugins::billing::BillingAccountStep>(
      "billing.account", "The tenant's billing account, plan and subscription in the control plane");
}
