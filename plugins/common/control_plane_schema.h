// The control-plane schema: the platform's tenant registry, users, roles, role bindings, API
// keys and the capacity reservations of step 2, in schema `control_plane` of the database at
// setting `controlplane.database_url` (separate from the runner's own `matih` schema).
//
// Least privilege: the schema belongs to the role `matih_control_plane` (NOLOGIN), which has no
// rights anywhere else; PUBLIC gets nothing on it. Every plugin transaction starts with
// EnterControlPlaneRole, so even when the runner connects as a powerful user the statements run
// with that role's rights only. The connecting login must be a member of the role; creating the
// role the first time needs CREATEROLE (or an operator creates it beforehand:
// `CREATE ROLE matih_control_plane NOLOGIN; GRANT matih_control_plane TO <runner login>;`).
//
// EnsureControlPlaneSchema is idempotent and safe to call from many runners at once: it takes a
// transaction-scoped advisory lock (two-int form, so it never collides with Terraform's
// single-bigint locks) and uses CREATE ... IF NOT EXISTS. Safe to call from any thread, each with
// its own session; it remembers per URL that the schema is there.
#pragma once

#include <pqxx/pqxx>
#include <string>

#include "common/pg_session.h"

namespace matih::plugins {

inline constexpr const char* kControlPlaneRole = "matih_control_plane";

void EnsureControlPlaneSchema(PgSession& session, const std::string& url);

// Whether the schema is there, without creating anything: observe and remove use it, so a plan on
// a fresh database changes nothing.
bool ControlPlaneSchemaExists(PgSession& session);

// Switches the current transaction to the control-plane role (SET LOCAL ROLE).
void EnterControlPlaneRole(pqxx::work& tx);

// A plugin's own tables in the control-plane schema: `ddl` (CREATE ... IF NOT EXISTS statements)
// runs after EnsureControlPlaneSchema, as the control-plane role (so it owns them) and under the
// schema's advisory lock (parallel IF NOT EXISTS DDL collides). Once per URL and `what` per
// process; `what` names the tables in errors ("the billing tables").
void EnsureControlPlaneTables(PgSession& session, const std::string& url, const std::string& what,
                              const char* ddl);
// Whether `qualified_table` ("control_plane.billing_accounts") exists, creating nothing.
bool ControlPlaneTableExists(PgSession& session, const std::string& qualified_table);

}  // namespace matih::plugins
