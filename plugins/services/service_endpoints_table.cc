#include "services/service_endpoints_table.h"

#include <mutex>
#include <set>

#include "common/control_plane_schema.h"

namespace matih::plugins::services {
namespace {

// The lock of plugins/common/control_plane_schema.cc ('MATI', 1): every DDL on the control-plane
// schema takes it, so two runners never create the same table at once.
constexpr int kLockClass = 0x4d415449;
constexpr int kSchemaLock = 1;

constexpr const char* kCreateTable = R"sql(
CREATE TABLE IF NOT EXISTS control_plane.service_endpoints (
  tenant_id     uuid NOT NULL REFERENCES control_plane.tenants (id) ON DELETE CASCADE,
  service       text NOT NULL,
  url           text NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, service)
))sql";

std::mutex& ReadyMutex() {
  static std::mutex m;
  return m;
}
std::set<std::string>& ReadyUrls() {
  static std::set<std::string> urls;
  return urls;
}

}  // namespace

bool ServiceEndpointsTableExists(PgSession& session) {
  return session.Transact("look for control_plane.service_endpoints", [](pqxx::work& tx) {
    return !tx.exec1("SELECT to_regclass('control_plane.service_endpoints')")[0].is_null();
  });
}

void EnsureServiceEndpointsTable(PgSession& session, const std::string& url) {
  {
    std::lock_guard<std::mutex> lock(ReadyMutex());
    if (ReadyUrls().count(url)) return;
  }
  EnsureControlPlaneSchema(session, url);
  session.Transact("create control_plane.service_endpoints", [](pqxx::work& tx) {
    tx.exec("SET LOCAL client_min_messages = warning");
    tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kLockClass) + ", " +
            std::to_string(kSchemaLock) + ")");
    EnterControlPlaneRole(tx);
    tx.exec(kCreateTable);
  });
  std::lock_guard<std::mutex> lock(ReadyMutex());
  ReadyUrls().insert(url);
}

}  // namespace matih::plugins::services
