#include "billing/billing_schema.h"

#include "common/control_plane_schema.h"

namespace matih::plugins::billing {
namespace {

constexpr const char* kCreateTables = R"sql(

CREATE TABLE IF NOT EXISTS control_plane.billing_plans (
  code                text PRIMARY KEY,
  tier                text NOT NULL,
  monthly_price_cents bigint NOT NULL CHECK (monthly_price_cents >= 0),
  currency            text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  billing_interval    text NOT NULL CHECK (billing_interval IN ('month', 'year')),
  updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS control_plane.billing_accounts (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL UNIQUE REFERENCES control_plane.tenants (id) ON DELETE CASCADE,
  external_ref  text NOT NULL UNIQUE,
  billing_email text NOT NULL,
  currency      text NOT NULL,
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS control_plane.billing_subscriptions (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id   uuid NOT NULL UNIQUE REFERENCES control_plane.billing_accounts (id) ON DELETE CASCADE,
  external_ref text NOT NULL UNIQUE,
  plan_code    text NOT NULL REFERENCES control_plane.billing_plans (code),
  status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'past_due', 'cancelled')),
  started_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
)sql";

}  // namespace

bool BillingTablesExist(PgSession& session) {
  return ControlPlaneTableExists(session, "control_plane.billing_subscriptions");
}

void EnsureBillingTables(PgSession& session, const std::string& url) {
  EnsureControlPlaneTables(session, url, "the billing tables", kCreateTables);
}

}  // namespace matih::plugins::billing
