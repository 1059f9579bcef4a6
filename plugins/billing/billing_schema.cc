#include "billing/billing_schema.h"

#include <mutex>
#include <set>

#include "common/control_plane_schema.h"

namespace matih::plugins::billing {
namespace {

// Advisory lock keys: 'MATI' (as in control_plane_schema.cc) and the step number 47.
constexpr int kLockClass = 0x4d415449;
constexpr int kBillingLock = 47;

constexpr const char* kCreateTables = R"sql(
SET LOCAL ROLE matih_control_plane;

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

std::mutex& ReadyMutex() {
  static std::mutex m;
  return m;
}
std::set<std::string>& ReadyUrls() {
  static std::set<std::string> urls;
  return urls;
}

}  // namespace

bool BillingTablesExist(PgSession& session) {
  return session.Transact("look for the billing tables", [](pqxx::work& tx) {
    // The last table EnsureBillingTables creates.
    return !tx.exec1("SELECT to_regclass('control_plane.billing_subscriptions')")[0].is_null();
  });
}

void EnsureBillingTables(PgSession& session, const std::string& url) {
  {
    std::lock_guard<std::mutex> lock(ReadyMutex());
    if (ReadyUrls().count(url)) return;
  }
  EnsureControlPlaneSchema(session, url);
  session.Transact("create the billing tables", [](pqxx::work& tx) {
    tx.exec("SET LOCAL client_min_messages = warning");
    tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kLockClass) + ", " +
            std::to_string(kBillingLock) + ")");
    tx.exec(kCreateTables);
  });
  std::lock_guard<std::mutex> lock(ReadyMutex());
  ReadyUrls().insert(url);
}

}  // namespace matih::plugins::billing
