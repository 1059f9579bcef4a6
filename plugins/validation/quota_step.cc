#include "validation/quota_step.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/control_plane_schema.h"
#include "common/pg_session.h"
#include "common/settings.h"
#include "common/tenant_spec.h"
#include "pg_pool/pg_pool.h"

namespace matih::plugins {
namespace {

// One pool per process for the control-plane database; never destroyed (leases may outlive
// static destruction order).
PgPool& ConnectionPool() {
  static auto* pool = new PgPool();
  return *pool;
}

const char* DefaultPlacement(const std::string& tier) {
  return (tier == "professional" || tier == "enterprise") ? "dedicated" : "shared";
}

std::string PoolList(const std::set<std::string>& pools) {
  std::string out;
  for (const auto& p : pools) out += (out.empty() ? "" : ",") + p;
  return out;
}

std::set<std::string> ReservedPools(PgSession& session, const std::string& tenant_id) {
  return session.Transact("read capacity reservations", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    std::set<std::string> pools;
    for (const auto& row : tx.exec_params(
             "SELECT pool FROM control_plane.capacity_reservations WHERE tenant_id = $1::uuid", tenant_id))
      pools.insert(row[0].as<std::string>());
    return pools;
  });
}

}  // namespace

void CheckQuotasStep::validate_params(std::string_view params_json) {
  auto params =
      nlohmann::json::parse(params_json.empty() ? std::string_view("{}") : params_json, nullptr, false);
  if (!params.is_object()) throw InvalidArgument("params must be an object");
  for (const auto& [key, value] : params.items()) {
    if (key != "placement") throw InvalidArgument("unknown param '" + key + "' (known: placement)");
    if (!value.is_object()) throw InvalidArgument("param placement must map tiers to shared|dedicated");
    for (const auto& [tier, where] : value.items())
      if (where != "shared" && where != "dedicated")
        throw InvalidArgument("placement of tier " + tier + " must be shared or dedicated");
  }
}

std::string CheckQuotasStep::PlacementOf(const Context& ctx) {
  const std::string tier = ctx.tier();
  auto params = nlohmann::json::parse(ctx.params_json(), nullptr, false);
  if (params.is_object() && params.contains("placement") && params["placement"].contains(tier))
    return params["placement"][tier].get<std::string>();
  return DefaultPlacement(tier);
}

std::vector<CheckQuotasStep::Pool> CheckQuotasStep::PoolsFor(const Context& ctx) {
  const std::string tier = ctx.tier();
  const std::string region = TenantSpec::Parse(ctx.spec_json()).region();
  if (region.empty()) throw InvalidArgument("the tenant spec names no region");
  const std::string placement = PlacementOf(ctx);
  auto limit = [&](std::initializer_list<std::string> keys) -> std::string {
    for (const auto& key : keys)
      if (auto value = ctx.setting(key)) return std::to_string(ParseCount(key, *value));
    return "";
  };
  std::vector<Pool> pools = {
      {"placement:" + placement,
       limit({placement == "shared" ? "quota.shared.tenants" : "quota.dedicated.clusters"})},
      {"region:" + region, limit({"quota.region." + region + ".tenants", "quota.region.tenants"})},
      {"tier:" + tier, limit({"quota.tier." + tier + ".tenants"})},
  };
  std::sort(pools.begin(), pools.end(), [](const Pool& a, const Pool& b) { return a.name < b.name; });
  return pools;
}

Observation CheckQuotasStep::observe(Context& ctx) {
  const std::string url = ctx.required_setting("controlplane.database_url");
  auto lease = ConnectionPool().Acquire(url);  // a kept connection, not one per call
  PgSession& session = *lease;
  if (!ControlPlaneSchemaExists(session)) return Observation::Absent();
  const auto reserved = ReservedPools(session, ctx.tenant_id());
  if (reserved.empty()) return Observation::Absent();
  std::set<std::string> wanted;
  for (const auto& pool : PoolsFor(ctx)) wanted.insert(pool.name);
  std::string diff;
  for (const auto& p : wanted)
    if (!reserved.count(p)) diff += (diff.empty() ? "" : "; ") + std::string("no reservation in pool ") + p;
  for (const auto& p : reserved)
    if (!wanted.count(p)) diff += (diff.empty() ? "" : "; ") + std::string("stale reservation in pool ") + p;
  return diff.empty() ? Observation::InSync() : Observation::Drifted(diff);
}

void CheckQuotasStep::apply(Context& ctx) {
  const std::string url = ctx.required_setting("controlplane.database_url");
  const auto pools = PoolsFor(ctx);
  const std::string tenant_id = ctx.tenant_id();
  auto lease = ConnectionPool().Acquire(url);  // a kept connection, not one per call
  PgSession& session = *lease;
  EnsureControlPlaneSchema(session, url);
  std::set<std::string> names;
  for (const auto& pool : pools) names.insert(pool.name);
  const std::string names_json = nlohmann::json(names).dump();

  session.Transact("reserve capacity", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    // A tier or region change moves the tenant to other pools: give back what it no longer needs.
    tx.exec_params(
        "DELETE FROM control_plane.capacity_reservations WHERE tenant_id = $1::uuid "
        "AND pool NOT IN (SELECT jsonb_array_elements_text($2::jsonb))",
        tenant_id, names_json);
    for (const auto& pool : pools) {
      auto capacity = tx.exec_params1(
          "INSERT INTO control_plane.capacity_pools (pool, capacity) VALUES ($1, NULLIF($2, '')::integer) "
          "ON CONFLICT (pool) DO UPDATE SET capacity = EXCLUDED.capacity RETURNING capacity",
          pool.name, pool.capacity);
      auto held = tx.exec_params(
          "SELECT 1 FROM control_plane.capacity_reservations WHERE pool = $1 AND tenant_id = $2::uuid",
          pool.name, tenant_id);
      if (!held.empty()) continue;
      const long long used =
          tx.exec_params1("SELECT count(*) FROM control_plane.capacity_reservations WHERE pool = $1",
                          pool.name)[0]
              .as<long long>();
      if (!capacity[0].is_null() && used >= capacity[0].as<long long>())
        throw PermanentError("capacity exhausted: pool " + pool.name + " holds " + std::to_string(used) +
                                 " of " + capacity[0].as<std::string>() + " tenants",
                             MATIH_STATUS_RESOURCE_EXHAUSTED);
      tx.exec_params(
          "INSERT INTO control_plane.capacity_reservations (pool, tenant_id) VALUES ($1, $2::uuid)",
          pool.name, tenant_id);
    }
  });
  ctx.set_output("pools", PoolList(names));
}

void CheckQuotasStep::remove(Context& ctx) {
  const std::string url = ctx.required_setting("controlplane.database_url");
  auto lease = ConnectionPool().Acquire(url);  // a kept connection, not one per call
  PgSession& session = *lease;
  if (!ControlPlaneSchemaExists(session)) return;  // nothing was ever reserved
  const std::string tenant_id = ctx.tenant_id();
  session.Transact("release capacity", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    tx.exec_params("DELETE FROM control_plane.capacity_reservations WHERE tenant_id = $1::uuid", tenant_id);
  });
}

}  // namespace matih::plugins
