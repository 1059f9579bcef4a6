#include "common/control_plane_schema.h"

#include <mutex>
#include <set>

#include "common/sql_state.h"

namespace matih::plugins {
namespace {

// Advisory lock keys: 'MATI' and 1 = control-plane schema.
constexpr int kLockClass = 0x4d415449;
constexpr int kSchemaLock = 1;

constexpr const char* kCreateRole = R"sql(
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'matih_control_plane') THEN
    CREATE ROLE matih_control_plane NOLOGIN;
  END IF;
  IF NOT pg_has_role(current_user, 'matih_control_plane', 'MEMBER') THEN
    EXECUTE format('GRANT matih_control_plane TO %I', current_user);
  END IF;
END $$)sql";

constexpr const char* kCreateSchema = R"sql(
CREATE SCHEMA IF NOT EXISTS control_plane AUTHORIZATION matih_control_plane;
REVOKE ALL ON SCHEMA control_plane FROM PUBLIC;
SET LOCAL ROLE matih_control_plane;

CREATE TABLE IF NOT EXISTS control_plane.tenants (
  id           uuid PRIMARY KEY,
  slug         text NOT NULL UNIQUE,
  display_name text NOT NULL,
  tier         text NOT NULL,
  region       text NOT NULL,
  status       text NOT NULL DEFAULT 'provisioning',
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS control_plane.users (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES control_plane.tenants (id) ON DELETE CASCADE,
  email             text NOT NULL,
  is_initial_admin  boolean NOT NULL DEFAULT false,
  invite_token_hash text,
  invite_expires_at timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, email)
);
CREATE UNIQUE INDEX IF NOT EXISTS users_one_initial_admin
  ON control_plane.users (tenant_id) WHERE is_initial_admin;

CREATE TABLE IF NOT EXISTS control_plane.roles (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES control_plane.tenants (id) ON DELETE CASCADE,
  name        text NOT NULL,
  permissions text[] NOT NULL,
  is_default  boolean NOT NULL DEFAULT true,
  UNIQUE (tenant_id, name)
);

CREATE TABLE IF NOT EXISTS control_plane.role_bindings (
  role_id uuid NOT NULL REFERENCES control_plane.roles (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES control_plane.users (id) ON DELETE CASCADE,
  PRIMARY KEY (role_id, user_id)
);

-- key_hash is a keyed hash (HMAC-SHA256) of the key; key_prefix ("mtk_" + 6 characters) lets an
-- operator recognise a key without being able to use it.
CREATE TABLE IF NOT EXISTS control_plane.api_keys (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id  uuid NOT NULL REFERENCES control_plane.tenants (id) ON DELETE CASCADE,
  name       text NOT NULL,
  key_prefix text NOT NULL,
  key_hash   text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

-- Step 2: one row per capacity pool ("placement:shared", "region:eu-west", "tier:free"); the
-- capacity is NULL when unlimited. A reservation holds one slot of a pool for a tenant; it is
-- taken before the tenant record exists, so no foreign key to tenants.
CREATE TABLE IF NOT EXISTS control_plane.capacity_pools (
  pool     text PRIMARY KEY,
  capacity integer CHECK (capacity >= 0)
);
CREATE TABLE IF NOT EXISTS control_plane.capacity_reservations (
  pool        text NOT NULL REFERENCES control_plane.capacity_pools (pool),
  tenant_id   uuid NOT NULL,
  reserved_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pool, tenant_id)
);
CREATE INDEX IF NOT EXISTS capacity_reservations_tenant
  ON control_plane.capacity_reservations (tenant_id);
)sql";

std::mutex& ReadyMutex() {
  static std::mutex m;
  return m;
}
std::set<std::string>& ReadyUrls() {
  static std::set<std::string> urls;
  return urls;
}

}  // namespace

// The two lookups below run on every observe of every control-plane step: a lone catalog read needs
// no transaction block, so each is one round trip instead of three (BEGIN, SELECT, COMMIT).
bool ControlPlaneSchemaExists(PgSession& session) {
  try {
    pqxx::nontransaction tx(session.connection());
    // The last table EnsureControlPlaneSchema creates.
    return !tx.exec1("SELECT to_regclass('control_plane.capacity_reservations')")[0].is_null();
  } catch (...) {
    RethrowAsStepError("look for the control-plane schema");
  }
}

void EnterControlPlaneRole(pqxx::work& tx) { tx.exec("SET LOCAL ROLE matih_control_plane"); }

void EnsureControlPlaneTables(PgSession& session, const std::string& url, const std::string& what,
                              const char* ddl) {
  const std::string key = url + "\n" + what;
  {
    std::lock_guard<std::mutex> lock(ReadyMutex());
    if (ReadyUrls().count(key)) return;
  }
  EnsureControlPlaneSchema(session, url);
  session.Transact("create " + what, [ddl](pqxx::work& tx) {
    tx.exec("SET LOCAL client_min_messages = warning");
    tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kLockClass) + ", " +
            std::to_string(kSchemaLock) + ")");
    EnterControlPlaneRole(tx);
    tx.exec(ddl);
  });
  std::lock_guard<std::mutex> lock(ReadyMutex());
  ReadyUrls().insert(key);
}

bool ControlPlaneTableExists(PgSession& session, const std::string& qualified_table) {
  try {
    pqxx::nontransaction tx(session.connection());
    return !tx.exec1("SELECT to_regclass(" + tx.quote(qualified_table) + ")")[0].is_null();
  } catch (...) {
    RethrowAsStepError("look for " + qualified_table);
  }
}

void EnsureControlPlaneSchema(PgSession& session, const std::string& url) {
  {
    std::lock_guard<std::mutex> lock(ReadyMutex());
    if (ReadyUrls().count(url)) return;
  }
  // Roles are cluster-wide while advisory locks are per database: two runners creating the role
  // from two databases at once may collide on it; the loser simply tries again.
  for (int attempt = 0;; ++attempt) {
    try {
      pqxx::work tx(session.connection());
      tx.exec("SET LOCAL client_min_messages = warning");
      tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kLockClass) + ", " +
              std::to_string(kSchemaLock) + ")");
      tx.exec(kCreateRole);
      tx.exec(kCreateSchema);
      tx.commit();
      break;
    } catch (const pqxx::sql_error& e) {
      const std::string state = e.sqlstate();
      if (attempt < 3 &&
          (state == "23505" || state == "42710" || StatusForSqlState(state) == MATIH_STATUS_ABORTED))
        continue;
      RethrowAsStepError("create the control-plane schema");
    } catch (...) {
      RethrowAsStepError("create the control-plane schema");
    }
  }
  std::lock_guard<std::mutex> lock(ReadyMutex());
  ReadyUrls().insert(url);
}

}  // namespace matih::plugins
