// matih-control-plane: phase 1 of provisioning (steps 3-6), rows in the control-plane schema.
// See each step's header for the settings it reads; config/targets.example.conf lists them all.
#include <matih/step.hpp>

#include "control_plane/admin_user_step.h"
#include "control_plane/api_keys_step.h"
#include "control_plane/default_roles_step.h"
#include "control_plane/tenant_record_step.h"

MATIH_PLUGIN("matih-control-plane", "1.0.0") {
  plugin.add<matih::plugins::TenantRecordStep>("controlplane.tenant",
                                               "The tenant's row in the control-plane registry");
  plugin.add<matih::plugins::AdminUserStep>("controlplane.admin_user",
                                            "The first administrator, with a hashed one-time invite token");
  plugin.add<matih::plugins::DefaultRolesStep>(
      "controlplane.roles", "Default roles Admin, Analyst, Viewer; Admin bound to the admin");
  plugin.add<matih::plugins::ApiKeysStep>(
      "controlplane.api_keys", "API keys mtk_...: hashed in the database, plaintext to the secret store");
}
