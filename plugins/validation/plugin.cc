// matih-validation: phase 0 of provisioning (steps 1 and 2).
//
// Settings read (runner config, section [targets]; config/targets.example.conf has examples):
//   tenant.regions               step 1, required: comma list of regions tenants may choose
//   tenant.reserved_slugs        step 1: comma list of slugs added to the built-in reserved words
//   tenant.service_catalog       step 1, required (or param service_catalog): config/service-catalog.yaml
//   controlplane.database_url    step 2, required: libpq URL of the control-plane database
//   quota.shared.tenants         step 2: tenants on the shared cluster (free, starter)
//   quota.dedicated.clusters     step 2: dedicated clusters (professional, enterprise)
//   quota.region.<region>.tenants, quota.region.tenants, quota.tier.<tier>.tenants
//                                step 2: per-region (specific, default) and per-tier limits
// A limit left out is unlimited. Details in validate_step.h and quota_step.h.
#include <matih/step.hpp>

#include "validation/quota_step.h"
#include "validation/validate_step.h"

MATIH_PLUGIN("matih-validation", "1.0.0") {
  plugin.setting("tenant.regions", "comma list of regions tenants may choose", MATIH_SETTING_REQUIRED);
  plugin.setting("tenant.reserved_slugs", "comma list of slugs added to the built-in reserved words");
  plugin.setting("tenant.service_catalog", "the service catalog file (or param service_catalog)");
  plugin.setting("controlplane.database_url", "libpq URL of the control-plane database (quota reservations)",
                 MATIH_SETTING_REQUIRED);
  plugin.setting("quota.*",
                 "capacity limits: quota.shared.tenants, quota.dedicated.clusters, "
                 "quota.region[.<region>].tenants, quota.tier.<tier>.tenants");
  plugin.add<matih::plugins::ValidateRequestStep>(
      "tenant.validate", "Checks slug, tier, region, admin e-mail, services and spec; lists every problem");
  plugin.add<matih::plugins::CheckQuotasStep>(
      "tenant.quota", "Reserves capacity per tier, placement and region in the control-plane database");
}
