#include "control_plane/tenant_record_step.h"

#include "common/control_plane_schema.h"
#include "common/tenant_spec.h"
#include "control_plane/control_plane_db.h"

namespace matih::plugins {
namespace {

struct TenantRow {
  std::string slug, display_name, tier, region;
};

TenantRow Desired(const Context& ctx) {
  const auto spec = TenantSpec::Parse(ctx.spec_json());
  TenantRow row{ctx.slug(), spec.display_name(ctx.slug()), ctx.tier(), spec.region()};
  if (row.region.empty()) throw InvalidArgument("the tenant spec names no region");
  return row;
}

}  // namespace

Observation TenantRecordStep::observe(Context& ctx) {
  const TenantRow want = Desired(ctx);
  auto existing = OpenExistingControlPlane(ctx);
  if (!existing) return Observation::Absent();
  auto& session = **existing;
  const std::string id = ctx.tenant_id();
  return session.Transact("read the tenant record", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    auto rows = tx.exec_params(
        "SELECT slug, display_name, tier, region FROM control_plane.tenants WHERE id = $1::uuid", id);
    if (rows.empty()) return Observation::Absent();
    TenantRow have{rows[0][0].as<std::string>(), rows[0][1].as<std::string>(), rows[0][2].as<std::string>(),
                   rows[0][3].as<std::string>()};
    std::string diff;
    if (have.slug != want.slug) AddDifference(diff, "slug", have.slug, want.slug);
    if (have.display_name != want.display_name)
      AddDifference(diff, "display_name", have.display_name, want.display_name);
    if (have.tier != want.tier) AddDifference(diff, "tier", have.tier, want.tier);
    if (have.region != want.region) AddDifference(diff, "region", have.region, want.region);
    return diff.empty() ? Observation::InSync() : Observation::Drifted(diff);
  });
}

void TenantRecordStep::apply(Context& ctx) {
  const TenantRow want = Desired(ctx);
  auto lease = OpenControlPlane(ctx);
  auto& session = *lease;
  const std::string id = ctx.tenant_id();
  session.Transact("write the tenant record", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    auto other = tx.exec_params("SELECT id FROM control_plane.tenants WHERE slug = $1 AND id <> $2::uuid",
                                want.slug, id);
    if (!other.empty())
      throw PermanentError("slug '" + want.slug + "' already belongs to another tenant in the control plane");
    tx.exec_params(
        "INSERT INTO control_plane.tenants (id, slug, display_name, tier, region) "
        "VALUES ($1::uuid, $2, $3, $4, $5) "
        "ON CONFLICT (id) DO UPDATE SET slug = EXCLUDED.slug, display_name = EXCLUDED.display_name, "
        "  tier = EXCLUDED.tier, region = EXCLUDED.region, updated_at = now() "
        "WHERE (tenants.slug, tenants.display_name, tenants.tier, tenants.region) IS DISTINCT FROM "
        "  (EXCLUDED.slug, EXCLUDED.display_name, EXCLUDED.tier, EXCLUDED.region)",
        id, want.slug, want.display_name, want.tier, want.region);
  });
  ctx.set_output("tenant_record_id", id);
}

void TenantRecordStep::remove(Context& ctx) {
  auto existing = OpenExistingControlPlane(ctx);
  if (!existing) return;  // nothing was ever created
  auto& session = **existing;
  const std::string id = ctx.tenant_id();
  session.Transact("delete the tenant record", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    tx.exec_params("DELETE FROM control_plane.tenants WHERE id = $1::uuid", id);
  });
}

}  // namespace matih::plugins
