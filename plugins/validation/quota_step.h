// tenant.quota (step 2, check-quotas): reserves one slot of capacity for the tenant in each pool
// it needs, atomically, in the control-plane database; rollback releases it.
//
// Pools: "tier:<tier>", "placement:<shared|dedicated>" and "region:<region>". A limit that is not
// configured means unlimited (the reservation is still recorded, so usage stays visible).
// Settings read ([targets]):
//   controlplane.database_url         required  libpq URL of the control-plane database
//   quota.shared.tenants              optional  tenants on the shared cluster (free, starter)
//   quota.dedicated.clusters          optional  dedicated clusters (professional, enterprise)
//   quota.region.<region>.tenants     optional  tenants in one region
//   quota.region.tenants              optional  default per-region limit
//   quota.tier.<tier>.tenants         optional  tenants of one tier
// Params: {placement: {free: shared, starter: shared, professional: dedicated, enterprise:
// dedicated}} (this default when absent; the flows in config/catalog.yaml say the same).
//
// Atomicity: one transaction upserts each pool row (which row-locks it), then counts and inserts;
// pools are taken in sorted order so two tenants never deadlock. Under READ COMMITTED the count
// after the lock sees every committed reservation, so parallel runners never overbook. A full
// pool is RESOURCE_EXHAUSTED (permanent) and reserves nothing. A limit lowered below current use
// keeps existing reservations and refuses new ones.
// Safe to call from any thread.
#pragma once

#include <matih/step.hpp>
#include <set>
#include <string>

namespace matih::plugins {

class CheckQuotasStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;

 private:
  struct Pool {
    std::string name;
    std::string capacity;  // "" = unlimited
  };
  static std::string PlacementOf(const Context& ctx);
  static std::vector<Pool> PoolsFor(const Context& ctx);
};

}  // namespace matih::plugins
