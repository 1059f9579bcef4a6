// The control-plane table of step 39: control_plane.service_endpoints, one row per service
// deployed for a tenant, with its public URL; the platform's API gateway and console read it.
//
//   tenant_id  uuid  -> control_plane.tenants (ON DELETE CASCADE), service text, url text,
//   registered_at, updated_at; primary key (tenant_id, service).
//
// The table is this plugin's own DDL, created next to the shared schema of
// plugins/common/control_plane_schema.h under the same discipline: the same transaction-scoped
// two-int advisory lock, CREATE ... IF NOT EXISTS, owned by role matih_control_plane (SET LOCAL
// ROLE), remembered per URL once there. Safe to call from any thread, each with its own session.
#pragma once

#include <string>

#include "common/pg_session.h"

namespace matih::plugins::services {

// Creates the control-plane schema (common) and this table when missing.
void EnsureServiceEndpointsTable(PgSession& session, const std::string& url);
// Whether the table is there; creates nothing (observe, remove).
bool ServiceEndpointsTableExists(PgSession& session);

}  // namespace matih::plugins::services
