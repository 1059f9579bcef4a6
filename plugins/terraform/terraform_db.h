// The plugin's tables in the control-plane database (setting terraform.database_url), next to the
// control-plane schema (plugins/common/control_plane_schema.h) and owned by its role:
//   control_plane.terraform_state_locks  step 50's lease row per tenant (state_lock.h)
//   control_plane.dedicated_clusters     step 54's registry of dedicated clusters
// and a look at the pg backend's own table (<schema>.states) without running terraform.
//
// One cached connection per URL per process, guarded by a mutex: calls from many threads take
// turns on it (each use is one short transaction); a broken connection is reopened on next use.
#pragma once

#include <functional>
#include <matih/step.hpp>
#include <string>

#include "common/pg_session.h"

namespace matih::plugins::terraform {

// Setting terraform.database_url (required). lib/pq (Terraform's driver) needs an explicit
// sslmode when the server has no TLS: "?sslmode=disable" locally.
std::string DatabaseUrl(const Context& ctx);

// Runs fn(tx) in one transaction on the cached connection of `url`, as role matih_control_plane
// (when `as_control_plane`); `what` names the work in error messages.
void WithTransaction(const std::string& url, const std::string& what, bool as_control_plane,
                     const std::function<void(pqxx::work&)>& fn);

// Creates the control-plane schema and this plugin's tables when missing (apply only).
void EnsureTerraformTables(const std::string& url);
// Whether this plugin's tables exist (observe and remove create nothing).
bool TerraformTablesExist(const std::string& url);

// Whether the pg backend holds a state row for `workspace` in `schema` (no terraform run, no
// schema created). TransientError when the database is unreachable.
bool StateExists(const std::string& url, const std::string& schema, const std::string& workspace);
// The state's serial, or -1 when there is no state row.
long long StateSerial(const std::string& url, const std::string& schema, const std::string& workspace);

// A fresh connection attempt (for telling "database down" from other terraform failures).
bool DatabaseReachable(const std::string& url);

}  // namespace matih::plugins::terraform
