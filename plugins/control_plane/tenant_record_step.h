// controlplane.tenant (step 3, create-tenant-record): the tenant's row in control_plane.tenants
// (id, slug, display name, tier, region), the registry the platform's services read.
//
// observe compares the row with the tenant (a hand-changed tier or name is DRIFTED); apply
// upserts it; remove deletes it, and with it (ON DELETE CASCADE) any user, role, binding or key
// a later step left behind. A slug held by another tenant id is a permanent error.
// Settings: controlplane.database_url (see control_plane_db.h). Safe to call from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins {

class TenantRecordStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
};

}  // namespace matih::plugins
