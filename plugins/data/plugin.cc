// matih-data: phase 4 of provisioning, the tenant's share of the data servers.
//   step 21 provision-database       data.database        PostgreSQL database + login role
//   step 22 provision-cache          data.cache_user      Redis ACL user limited to t:<slug>:*
//   step 24 create-search-indices    data.search_indices  full-text tables in the tenant database
//   step 25 create-message-topics    data.message_stream  NATS JetStream stream tenant.<slug>.>
//   step 45 enable-audit-logging     data.audit_stream    JetStream stream audit.<slug>.> and the
//                                                         tenant's row in control_plane.audit_settings
//
// Settings read (runner config, section [targets]; config/targets.example.conf has examples).
// Shared tiers (free, starter) read data.shared.*, dedicated tiers (professional, enterprise)
// data.dedicated.*; a dedicated tier never falls back to the shared servers (tier_servers.h).
//   data.<class>.database_url         steps 21, 24: libpq URL of a superuser login
//   data.<class>.redis_url            step 22: redis://[user@]host:port of an admin login
//   data.<class>.redis_password_file  step 22: file holding that login's password (optional)
//   data.<class>.nats_url             steps 25, 45: nats://host:port (credentials in the URL if any)
//   controlplane.database_url         step 45: libpq URL of the control-plane database (also read
//                                     by matih-control-plane; a member of role matih_control_plane)
//   data.connect_timeout_ms           Redis and NATS connect and request timeout (default 5000)
// URLs are flagged secret (they may carry credentials); the shared ones are required.
// Secrets written (secret store only, shared with other plugins): postgres/password,
// redis/password.
#include <matih/step.hpp>

#include "data/audit_stream_step.h"
#include "data/cache_user_step.h"
#include "data/database_step.h"
#include "data/message_stream_step.h"
#include "data/search_indices_step.h"

MATIH_PLUGIN("matih-data", "1.0.0") {
  using namespace matih::plugins::data;
  plugin.setting("data.shared.database_url",
                 "libpq URL of a superuser on the shared PostgreSQL (steps 21, 24)",
                 MATIH_SETTING_REQUIRED | MATIH_SETTING_SECRET);
  plugin.setting("data.dedicated.database_url",
                 "libpq URL of a superuser on the PostgreSQL of dedicated tiers (steps 21, 24)",
                 MATIH_SETTING_SECRET);
  plugin.setting("data.shared.redis_url",
                 "redis://[user@]host:port of an admin login on the shared Redis (step 22)",
                 MATIH_SETTING_REQUIRED | MATIH_SETTING_SECRET);
  plugin.setting("data.shared.redis_password_file",
                 "file holding the password of data.shared.redis_url's login");
  plugin.setting("data.dedicated.redis_url",
                 "redis://[user@]host:port of an admin login for dedicated tiers (step 22)",
                 MATIH_SETTING_SECRET);
  plugin.setting("data.dedicated.redis_password_file",
                 "file holding the password of data.dedicated.redis_url's login");
  plugin.setting("data.shared.nats_url",
                 "nats://host:port of the shared NATS server with JetStream (steps 25, 45)",
                 MATIH_SETTING_REQUIRED | MATIH_SETTING_SECRET);
  plugin.setting("data.dedicated.nats_url",
                 "nats://host:port of the NATS server of dedicated tiers (steps 25, 45)",
                 MATIH_SETTING_SECRET);
  plugin.setting("controlplane.database_url",
                 "libpq URL of the control-plane database (step 45 stores the audit settings there)",
                 MATIH_SETTING_REQUIRED);
  plugin.setting("data.connect_timeout_ms",
                 "Redis and NATS connect and request timeout in ms (default 5000)");
  plugin.share_secret("postgres/password");
  plugin.share_secret("redis/password");
  plugin.add<DatabaseStep>("data.database",
                           "PostgreSQL database and login role per tenant, CONNECT revoked from PUBLIC");
  plugin.add<CacheUserStep>("data.cache_user",
                            "Redis ACL user per tenant limited to keys and channels t:<slug>:*");
  plugin.adoptable("data.cache_user");
  plugin.add<MessageStreamStep>("data.message_stream",
                                "NATS JetStream stream per tenant on tenant.<slug>.> with per-tier limits");
  plugin.adoptable("data.message_stream");
  plugin.add<AuditStreamStep>("data.audit_stream",
                              "Per-tenant audit stream audit.<slug>.> with per-tier retention and its "
                              "audit settings in the control plane");
  plugin.adoptable("data.audit_stream");
  plugin.add<SearchIndicesStep>(
      "data.search_indices",
      "Full-text document tables (generated tsvector, GIN index) in the tenant database");
  plugin.adoptable("data.search_indices");
}
