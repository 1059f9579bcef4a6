#include "services/endpoints_step.h"

#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "common/control_plane_schema.h"
#include "common/pg_session.h"
#include "common/tenant_spec.h"
#include "services/service_endpoints_table.h"

namespace matih::plugins::services {
namespace {

using Endpoints = std::map<std::string, std::string>;  // service -> url

std::string ParentZone(const Context& ctx) {
  static const std::regex kZone(R"(^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?$)");
  std::string zone = ctx.required_setting("services.parent_zone");
  if (!zone.empty() && zone.back() == '.') zone.pop_back();  // "tenants.matih.test." is the same zone
  if (zone.empty() || zone.size() > 253 || !std::regex_match(zone, kZone))
    throw PermanentError("setting targets.services.parent_zone is not a DNS name: '" + zone + "'");
  return zone;
}

// The rows the control plane should hold: requested by the spec and deployed by its step.
Endpoints Desired(const Context& ctx) {
  const std::string zone = ParentZone(ctx);
  Endpoints want;
  for (const auto& service : TenantSpec::Parse(ctx.spec_json()).services())
    if (ctx.output(service, "deployed") == "true")
      want[service] = "https://" + service + "." + ctx.slug() + "." + zone;
  return want;
}

Endpoints Read(pqxx::work& tx, const std::string& tenant_id, bool lock) {
  Endpoints have;
  for (const auto& row :
       tx.exec_params("SELECT service, url FROM control_plane.service_endpoints WHERE tenant_id = "
                      "$1::uuid ORDER BY service" +
                          std::string(lock ? " FOR UPDATE" : ""),
                      tenant_id))
    have[row[0].as<std::string>()] = row[1].as<std::string>();
  return have;
}

std::string Diff(const Endpoints& have, const Endpoints& want) {
  std::string diff;
  auto note = [&](const std::string& s) { diff += (diff.empty() ? "" : "; ") + s; };
  for (const auto& [service, url] : want) {
    auto it = have.find(service);
    if (it == have.end())
      note("+" + service + " " + url);
    else if (it->second != url)
      note(service + ": have '" + it->second + "', want '" + url + "'");
  }
  for (const auto& [service, url] : have)
    if (!want.count(service)) note("-" + service + " (not deployed)");
  return diff;
}

std::string Names(const Endpoints& e) {
  std::string out;
  for (const auto& [service, url] : e) out += (out.empty() ? "" : ",") + service;
  return out;
}

}  // namespace

void EndpointsStep::validate_params(std::string_view params_json) {
  auto params =
      nlohmann::json::parse(params_json.empty() ? std::string_view("{}") : params_json, nullptr, false);
  if (!params.is_object()) throw InvalidArgument("params must be an object");
  if (!params.empty())
    throw InvalidArgument("register-service-endpoints takes no params, got '" + params.begin().key() + "'");
}

Observation EndpointsStep::observe(Context& ctx) {
  const Endpoints want = Desired(ctx);
  const std::string id = ctx.tenant_id();
  Observation result = Observation::InSync();
  sessions_.With(ctx.required_setting("controlplane.database_url"), [&](PgSession& session) {
    if (!ControlPlaneSchemaExists(session) || !ServiceEndpointsTableExists(session)) {
      result = want.empty() ? Observation::InSync() : Observation::Absent();
      return;
    }
    const Endpoints have = session.Transact("read the service endpoints", [&](pqxx::work& tx) {
      EnterControlPlaneRole(tx);
      return Read(tx, id, false);
    });
    const std::string diff = Diff(have, want);
    if (have.empty() && !want.empty())
      result = Observation::Absent();
    else if (!diff.empty())
      result = Observation::Drifted(diff);
  });
  return result;
}

void EndpointsStep::apply(Context& ctx) {
  const Endpoints want = Desired(ctx);
  const std::string url = ctx.required_setting("controlplane.database_url");
  const std::string id = ctx.tenant_id();
  sessions_.With(url, [&](PgSession& session) {
    EnsureServiceEndpointsTable(session, url);
    session.Transact("register the service endpoints", [&](pqxx::work& tx) {
      EnterControlPlaneRole(tx);
      if (!want.empty() &&
          tx.exec_params("SELECT 1 FROM control_plane.tenants WHERE id = $1::uuid", id).empty())
        throw PermanentError(
            "tenant " + ctx.slug() +
            " has no control-plane record yet (step 3 create-tenant-record); cannot register "
            "its service endpoints");
      const Endpoints have = Read(tx, id, true);
      for (const auto& [service, old_url] : have)
        if (!want.count(service))
          tx.exec_params(
              "DELETE FROM control_plane.service_endpoints WHERE tenant_id = $1::uuid AND service = $2", id,
              service);
      for (const auto& [service, new_url] : want) {
        auto it = have.find(service);
        if (it == have.end())
          tx.exec_params(
              "INSERT INTO control_plane.service_endpoints (tenant_id, service, url) VALUES ($1::uuid, $2, "
              "$3)",
              id, service, new_url);
        else if (it->second != new_url)
          tx.exec_params(
              "UPDATE control_plane.service_endpoints SET url = $3, updated_at = now() "
              "WHERE tenant_id = $1::uuid AND service = $2",
              id, service, new_url);
      }
    });
  });
  ctx.set_output("services", Names(want));
  ctx.set_output("count", std::to_string(want.size()));
  // The registered URLs by service, as step 56 (activate-tenant) checks them.
  ctx.set_output("endpoints", nlohmann::json(want).dump());
}

void EndpointsStep::remove(Context& ctx) {
  const std::string id = ctx.tenant_id();
  sessions_.With(ctx.required_setting("controlplane.database_url"), [&](PgSession& session) {
    if (!ControlPlaneSchemaExists(session) || !ServiceEndpointsTableExists(session)) return;
    session.Transact("delete the service endpoints", [&](pqxx::work& tx) {
      EnterControlPlaneRole(tx);
      tx.exec_params("DELETE FROM control_plane.service_endpoints WHERE tenant_id = $1::uuid", id);
    });
  });
}

}  // namespace matih::plugins::services
