#include "control_plane/default_roles_step.h"

#include <nlohmann/json.hpp>

#include "common/control_plane_schema.h"
#include "control_plane/control_plane_db.h"

namespace matih::plugins {
namespace {

const std::map<std::string, std::set<std::string>>& BuiltInRoles() {
  static const std::map<std::string, std::set<std::string>> roles = {
      {"Admin",
       {"tenant:admin", "users:manage", "roles:manage", "api_keys:manage", "data:read", "data:write",
        "dashboards:manage", "pipelines:manage", "billing:read"}},
      {"Analyst", {"data:read", "data:write", "dashboards:manage", "pipelines:run", "queries:run"}},
      {"Viewer", {"data:read", "dashboards:read"}},
  };
  return roles;
}

std::map<std::string, std::set<std::string>> ReadRoles(pqxx::work& tx, const std::string& tenant) {
  std::map<std::string, std::set<std::string>> roles;
  for (const auto& row :
       tx.exec_params("SELECT name, array_to_json(permissions)::text FROM control_plane.roles "
                      "WHERE tenant_id = $1::uuid AND is_default",
                      tenant)) {
    auto perms = nlohmann::json::parse(row[1].as<std::string>());
    roles[row[0].as<std::string>()] = perms.get<std::set<std::string>>();
  }
  return roles;
}

std::string PermissionDiff(const std::set<std::string>& have, const std::set<std::string>& want) {
  std::string out;
  for (const auto& p : want)
    if (!have.count(p)) out += " +" + p;
  for (const auto& p : have)
    if (!want.count(p)) out += " -" + p;
  return out;
}

}  // namespace

DefaultRolesStep::Desired DefaultRolesStep::Parse(std::string_view params_json) {
  auto params =
      nlohmann::json::parse(params_json.empty() ? std::string_view("{}") : params_json, nullptr, false);
  if (!params.is_object()) throw InvalidArgument("params must be an object");
  Desired d{BuiltInRoles(), "Admin"};
  for (const auto& [key, value] : params.items())
    if (key != "roles" && key != "admin_role")
      throw InvalidArgument("unknown param '" + key + "' (known: roles, admin_role)");
  if (params.contains("roles")) {
    const auto& roles = params["roles"];
    if (!roles.is_object() || roles.empty())
      throw InvalidArgument("param roles must map role names to permission lists");
    d.roles.clear();
    for (const auto& [name, perms] : roles.items()) {
      if (!perms.is_array()) throw InvalidArgument("permissions of role " + name + " must be a list");
      for (const auto& p : perms)
        if (!p.is_string() || p.get<std::string>().empty())
          throw InvalidArgument("permissions of role " + name + " must be non-empty strings");
      d.roles[name] = perms.get<std::set<std::string>>();
    }
  }
  if (params.contains("admin_role")) {
    if (!params["admin_role"].is_string()) throw InvalidArgument("param admin_role must be a role name");
    d.admin_role = params["admin_role"].get<std::string>();
  }
  if (!d.roles.count(d.admin_role))
    throw InvalidArgument("admin_role " + d.admin_role + " is not one of the roles");
  return d;
}

void DefaultRolesStep::SetOutputs(Context& ctx, const Desired& want) {
  std::string roles;
  for (const auto& [name, perms] : want.roles) roles += (roles.empty() ? "" : ",") + name;
  ctx.set_output("roles", roles);
}

void DefaultRolesStep::validate_params(std::string_view params_json) { Parse(params_json); }

Observation DefaultRolesStep::observe(Context& ctx) {
  const Desired want = Parse(ctx.params_json());
  auto existing = OpenExistingControlPlane(ctx);
  if (!existing) return Observation::Absent();
  auto& session = **existing;
  const std::string tenant = ctx.tenant_id();
  Observation found = session.Transact("read the default roles", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    const auto have = ReadRoles(tx, tenant);
    if (have.empty()) return Observation::Absent();
    std::string diff;
    for (const auto& [name, perms] : want.roles) {
      auto it = have.find(name);
      if (it == have.end())
        AddNote(diff, "role " + name + " missing");
      else if (it->second != perms)
        AddNote(diff, "role " + name + " permissions:" + PermissionDiff(it->second, perms));
    }
    for (const auto& [name, perms] : have)
      if (!want.roles.count(name)) AddNote(diff, "stale default role " + name);
    auto bound = tx.exec_params(
        "SELECT 1 FROM control_plane.role_bindings b JOIN control_plane.roles r ON r.id = b.role_id "
        "JOIN control_plane.users u ON u.id = b.user_id "
        "WHERE r.tenant_id = $1::uuid AND r.name = $2 AND u.is_initial_admin",
        tenant, want.admin_role);
    if (bound.empty()) AddNote(diff, "admin user not bound to role " + want.admin_role);
    return diff.empty() ? Observation::InSync() : Observation::Drifted(diff);
  });
  // Adoptable (plugin.cc): what an apply made and never recorded is found here with its outputs.
  if (found.state == Observation::State::kInSync) SetOutputs(ctx, want);
  return found;
}

void DefaultRolesStep::apply(Context& ctx) {
  const Desired want = Parse(ctx.params_json());
  auto lease = OpenControlPlane(ctx);
  auto& session = *lease;
  const std::string tenant = ctx.tenant_id();
  session.Transact("write the default roles", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    auto admin = tx.exec_params(
        "SELECT id FROM control_plane.users WHERE tenant_id = $1::uuid AND is_initial_admin", tenant);
    if (admin.empty())
      throw PermanentError("the admin user is missing: step create-admin-user must run first");
    std::set<std::string> names;
    for (const auto& [name, perms] : want.roles) {
      names.insert(name);
      tx.exec_params(
          "INSERT INTO control_plane.roles (tenant_id, name, permissions, is_default) "
          "VALUES ($1::uuid, $2, ARRAY(SELECT jsonb_array_elements_text($3::jsonb) ORDER BY 1), true) "
          "ON CONFLICT (tenant_id, name) DO UPDATE SET permissions = EXCLUDED.permissions, is_default = true "
          "WHERE roles.permissions IS DISTINCT FROM EXCLUDED.permissions OR NOT roles.is_default",
          tenant, name, nlohmann::json(perms).dump());
    }
    tx.exec_params(
        "DELETE FROM control_plane.roles WHERE tenant_id = $1::uuid AND is_default "
        "AND name NOT IN (SELECT jsonb_array_elements_text($2::jsonb))",
        tenant, nlohmann::json(names).dump());
    tx.exec_params(
        "INSERT INTO control_plane.role_bindings (role_id, user_id) "
        "SELECT id, $3::uuid FROM control_plane.roles WHERE tenant_id = $1::uuid AND name = $2 "
        "ON CONFLICT DO NOTHING",
        tenant, want.admin_role, admin[0][0].as<std::string>());
  });
  SetOutputs(ctx, want);
}

void DefaultRolesStep::remove(Context& ctx) {
  auto existing = OpenExistingControlPlane(ctx);
  if (!existing) return;  // nothing was ever created
  auto& session = **existing;
  const std::string tenant = ctx.tenant_id();
  session.Transact("delete the default roles", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    tx.exec_params("DELETE FROM control_plane.roles WHERE tenant_id = $1::uuid AND is_default", tenant);
  });
}

}  // namespace matih::plugins
