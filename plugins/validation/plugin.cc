// matih-validation: phase 0 of provisioning (steps 1 and 2). See each step's header for the
// settings it reads; config/targets.example.conf lists them all.
#include <matih/step.hpp>

#include "validation/quota_step.h"
#include "validation/validate_step.h"

MATIH_PLUGIN("matih-validation", "1.0.0") {
  plugin.add<matih::plugins::ValidateRequestStep>(
      "tenant.validate", "Checks slug, tier, region, admin e-mail, services and spec; lists every problem");
  plugin.add<matih::plugins::CheckQuotasStep>(
      "tenant.quota", "Reserves capacity per tier, placement and region in the control-plane database");
}
