// matih-control-plane: phase 1 of provisioning (steps 3-6), rows in the control-plane schema
// (plugins/common/control_plane_schema.h: schema control_plane, role matih_control_plane).
//
// Settings read (runner config, section [targets]; config/targets.example.conf has examples):
//   controlplane.database_url      required: libpq URL; the login must be a member of role
//                                  matih_control_plane (created on first use with CREATEROLE)
//   controlplane.hash_key_file     steps 4 and 6, required: key file (MATIH_SETTING_KEY_FILE: the
//                                  runner checks it at start: mode 0600, >= 32 bytes, e.g. 64 hex
//                                  digits), the HMAC-SHA256 key of stored invite tokens and API keys
//   controlplane.invite_ttl_hours  step 4: lifetime of the invite token (default 168)
// Secrets written (secret store, never logs or outputs): controlplane/admin-invite-token,
// controlplane/api-key/<name>.
#include <matih/step.hpp>

#include "control_plane/admin_user_step.h"
#include "control_plane/api_keys_step.h"
#include "control_plane/default_roles_step.h"
#include "control_plane/tenant_record_step.h"

MATIH_PLUGIN("matih-control-plane", "1.0.0") {
  plugin.setting("controlplane.database_url", "libpq URL of the control-plane database",
                 MATIH_SETTING_REQUIRED);
  plugin.setting(
      "controlplane.hash_key_file",
      "key file (mode 0600, >= 32 bytes: 64 hex digits): HMAC key of stored invite tokens and API keys",
      MATIH_SETTING_REQUIRED | MATIH_SETTING_KEY_FILE);
  plugin.setting("controlplane.invite_ttl_hours", "lifetime of the admin's invite token (168)");
  // The welcome e-mail (step 55) carries the invite link.
  plugin.share_secret("controlplane/admin-invite-token");
  plugin.add<matih::plugins::TenantRecordStep>("controlplane.tenant",
                                               "The tenant's row in the control-plane registry");
  plugin.add<matih::plugins::AdminUserStep>("controlplane.admin_user",
                                            "The first administrator, with a hashed one-time invite token");
  plugin.add<matih::plugins::DefaultRolesStep>(
      "controlplane.roles", "Default roles Admin, Analyst, Viewer; Admin bound to the admin");
  plugin.adoptable("controlplane.roles");
  plugin.add<matih::plugins::ApiKeysStep>(
      "controlplane.api_keys", "API keys mtk_...: hashed in the database, plaintext to the secret store");
}
