// controlplane.roles (step 5, create-default-roles): the tenant's default roles (Admin, Analyst,
// Viewer) with their permissions in control_plane.roles, and the Admin role bound to the admin
// user of step 4 in control_plane.role_bindings.
//
// Params: {roles: {<name>: [permission, ...], ...}, admin_role: Admin}; config/catalog.yaml
// holds the platform's defaults, built-in ones below apply when params say nothing. Roles a
// tenant creates itself (is_default = false) are never touched. observe reports missing roles,
// permissions changed by hand (+added -removed), stale default roles and a missing binding;
// apply converges all of it; remove deletes the default roles (their bindings cascade).
// Outputs: roles (the default roles' names), set by apply and by an observe that finds them in
// sync. The kind is adoptable: the roles are found by tenant and name, and apply again upserts
// them without making anything twice. Settings: controlplane.database_url. Safe from any thread.
#pragma once

#include <map>
#include <matih/step.hpp>
#include <set>
#include <string>

namespace matih::plugins {

class DefaultRolesStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;

 private:
  struct Desired {
    std::map<std::string, std::set<std::string>> roles;
    std::string admin_role;
  };
  static Desired Parse(std::string_view params_json);
  static void SetOutputs(Context& ctx, const Desired& want);
};

}  // namespace matih::plugins
