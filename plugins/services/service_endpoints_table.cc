#include "services/service_endpoints_table.h"

#include "common/control_plane_schema.h"

namespace matih::plugins::services {
namespace {

constexpr const char* kCreateTable = R"sql(
CREATE TABLE IF NOT EXISTS control_plane.service_endpoints (
  tenant_id     uuid NOT NULL REFERENCES control_plane.tenants (id) ON DELETE CASCADE,
  service       text NOT NULL,
  url           text NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, service)
))sql";

}  // namespace

bool ServiceEndpointsTableExists(PgSession& session) {
  return ControlPlaneTableExists(session, "control_plane.service_endpoints");
}

void EnsureServiceEndpointsTable(PgSession& session, const std::string& url) {
  EnsureControlPlaneTables(session, url, "control_plane.service_endpoints", kCreateTable);
}

}  // namespace matih::plugins::services
