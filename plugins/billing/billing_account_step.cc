#include "billing/billing_account_step.h"

#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "billing/billing_schema.h"
#include "common/control_plane_schema.h"
#include "common/tenant_spec.h"
#include "pg_pool/pg_pool.h"

namespace matih::plugins::billing {
namespace {

constexpr const char* kDatabaseSetting = "billing.database_url";

PgPool& Pool() {
  static PgPool pool;
  return pool;
}

struct Plan {
  std::string code, tier, currency, interval;
  long long monthly_price_cents = 0;
  bool operator==(const Plan&) const = default;
};

// The tiers a plan may be given for: the platform's four.
bool KnownTier(const std::string& tier) {
  return tier == "free" || tier == "starter" || tier == "professional" || tier == "enterprise";
}

Plan ParsePlan(const std::string& tier, const nlohmann::json& p) {
  const std::string where = "param plans." + tier;
  if (!p.is_object()) throw InvalidArgument(where + " must be an object");
  for (const auto& [key, _] : p.items())
    if (key != "code" && key != "monthly_price_cents" && key != "currency" && key != "interval")
      throw InvalidArgument(where + " has an unknown key '" + key + "'");
  Plan plan;
  plan.tier = tier;
  if (!p.contains("code") || !p["code"].is_string() ||
      !std::regex_match(p["code"].get<std::string>(), std::regex("[a-z0-9][a-z0-9-]{0,62}")))
    throw InvalidArgument(where + ".code must be a plan code of [a-z0-9-] (at most 63 characters)");
  plan.code = p["code"].get<std::string>();
  if (!p.contains("monthly_price_cents") || !p["monthly_price_cents"].is_number_integer() ||
      p["monthly_price_cents"].get<long long>() < 0)
    throw InvalidArgument(where + ".monthly_price_cents must be a non-negative integer");
  plan.monthly_price_cents = p["monthly_price_cents"].get<long long>();
  if (!p.contains("currency") || !p["currency"].is_string() ||
      !std::regex_match(p["currency"].get<std::string>(), std::regex("[A-Z]{3}")))
    throw InvalidArgument(where + ".currency must be an ISO 4217 code such as USD");
  plan.currency = p["currency"].get<std::string>();
  if (!p.contains("interval") || (p["interval"] != "month" && p["interval"] != "year"))
    throw InvalidArgument(where + ".interval must be month or year");
  plan.interval = p["interval"].get<std::string>();
  return plan;
}

std::map<std::string, Plan> ParsePlans(std::string_view text) {
  auto params = nlohmann::json::parse(text.empty() ? std::string_view("{}") : text, nullptr, false);
  if (!params.is_object()) throw InvalidArgument("params must be an object");
  for (const auto& [key, _] : params.items())
    if (key != "plans") throw InvalidArgument("unknown param '" + key + "'");
  if (!params.contains("plans") || !params["plans"].is_object() || params["plans"].empty())
    throw InvalidArgument("param plans (a plan per tier) is required");
  std::map<std::string, Plan> plans;
  std::map<std::string, Plan> by_code;
  for (const auto& [tier, p] : params["plans"].items()) {
    if (!KnownTier(tier)) throw InvalidArgument("param plans names an unknown tier '" + tier + "'");
    Plan plan = ParsePlan(tier, p);
    auto [it, fresh] = by_code.emplace(plan.code, plan);
    Plan other = it->second, mine = plan;
    other.tier = mine.tier = "";
    if (!fresh && !(other == mine))
      throw InvalidArgument("plan code '" + plan.code + "' is defined twice, differently (tiers " +
                            it->second.tier + " and " + tier + ")");
    plans.emplace(tier, std::move(plan));
  }
  return plans;
}

struct Desired {
  Plan plan;
  std::string account_ref, subscription_ref, billing_email;
};

Desired DesiredFor(const Context& ctx) {
  const auto plans = ParsePlans(ctx.params_json());
  auto it = plans.find(ctx.tier());
  if (it == plans.end()) throw InvalidArgument("param plans has no plan for tier " + ctx.tier());
  Desired d;
  d.plan = it->second;
  // The shared plan row does not belong to a tier: a code shared by two tiers keeps the first.
  for (const auto& [tier, plan] : plans)
    if (plan.code == d.plan.code) {
      d.plan.tier = tier;
      break;
    }
  d.account_ref = "acct_" + ctx.tenant_id();
  d.subscription_ref = "sub_" + ctx.tenant_id();
  d.billing_email = TenantSpec::Parse(ctx.spec_json()).admin_email();
  if (d.billing_email.empty())
    throw InvalidArgument("the tenant spec has no admin_email (the billing contact)");
  return d;
}

void Note(std::string& diff, const std::string& text) { diff += (diff.empty() ? "" : "; ") + text; }
void Compare(std::string& diff, const std::string& what, const std::string& have, const std::string& want) {
  if (have != want) Note(diff, what + ": have '" + have + "', want '" + want + "'");
}

std::string Field(const pqxx::field& f) { return f.is_null() ? "" : f.as<std::string>(); }

}  // namespace

void BillingAccountStep::validate_params(std::string_view params_json) { ParsePlans(params_json); }

Observation BillingAccountStep::observe(Context& ctx) {
  const Desired want = DesiredFor(ctx);
  const std::string url = ctx.required_setting(kDatabaseSetting);
  auto session = Pool().Acquire(url);
  if (!BillingTablesExist(*session)) return Observation::Absent();
  return session->Transact("read the billing account", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    auto account = tx.exec_params(
        "SELECT a.external_ref, a.billing_email, a.currency, a.status, s.external_ref, s.plan_code, s.status "
        "FROM control_plane.billing_accounts a "
        "LEFT JOIN control_plane.billing_subscriptions s ON s.account_id = a.id WHERE a.tenant_id = $1::uuid",
        ctx.tenant_id());
    if (account.empty()) return Observation::Absent();
    const auto& a = account[0];
    std::string diff;
    Compare(diff, "account external_ref", Field(a[0]), want.account_ref);
    Compare(diff, "account billing_email", Field(a[1]), want.billing_email);
    Compare(diff, "account currency", Field(a[2]), want.plan.currency);
    Compare(diff, "account status", Field(a[3]), "active");
    if (a[4].is_null()) {
      Note(diff, "subscription missing");
    } else {
      Compare(diff, "subscription external_ref", Field(a[4]), want.subscription_ref);
      Compare(diff, "subscription plan", Field(a[5]), want.plan.code);
      Compare(diff, "subscription status", Field(a[6]), "active");
    }
    auto plan = tx.exec_params(
        "SELECT tier, monthly_price_cents, currency, billing_interval FROM control_plane.billing_plans "
        "WHERE code = $1",
        want.plan.code);
    if (plan.empty()) {
      Note(diff, "plan " + want.plan.code + " missing");
    } else {
      const std::string p = "plan " + want.plan.code + " ";
      Compare(diff, p + "tier", Field(plan[0][0]), want.plan.tier);
      Compare(diff, p + "monthly_price_cents", Field(plan[0][1]),
              std::to_string(want.plan.monthly_price_cents));
      Compare(diff, p + "currency", Field(plan[0][2]), want.plan.currency);
      Compare(diff, p + "interval", Field(plan[0][3]), want.plan.interval);
    }
    return diff.empty() ? Observation::InSync() : Observation::Drifted(diff);
  });
}

void BillingAccountStep::apply(Context& ctx) {
  const Desired want = DesiredFor(ctx);
  const std::string url = ctx.required_setting(kDatabaseSetting);
  auto session = Pool().Acquire(url);
  EnsureBillingTables(*session, url);
  const std::string tenant = ctx.tenant_id();
  session->Transact("write the billing account", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    if (tx.exec_params("SELECT 1 FROM control_plane.tenants WHERE id = $1::uuid", tenant).empty())
      throw PermanentError("the tenant record is missing: step create-tenant-record must run first");
    // Every statement writes only what differs, so a converged tenant costs no row version.
    tx.exec_params(
        "INSERT INTO control_plane.billing_plans (code, tier, monthly_price_cents, currency, "
        "billing_interval) "
        "VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (code) DO UPDATE SET tier = EXCLUDED.tier, monthly_price_cents = "
        "EXCLUDED.monthly_price_cents, "
        "  currency = EXCLUDED.currency, billing_interval = EXCLUDED.billing_interval, updated_at = now() "
        "WHERE (billing_plans.tier, billing_plans.monthly_price_cents, billing_plans.currency, "
        "  billing_plans.billing_interval) IS DISTINCT FROM "
        "  (EXCLUDED.tier, EXCLUDED.monthly_price_cents, EXCLUDED.currency, EXCLUDED.billing_interval)",
        want.plan.code, want.plan.tier, want.plan.monthly_price_cents, want.plan.currency,
        want.plan.interval);
    tx.exec_params(
        "INSERT INTO control_plane.billing_accounts (tenant_id, external_ref, billing_email, currency) "
        "VALUES ($1::uuid, $2, $3, $4) "
        "ON CONFLICT (tenant_id) DO UPDATE SET external_ref = EXCLUDED.external_ref, "
        "  billing_email = EXCLUDED.billing_email, currency = EXCLUDED.currency, status = 'active', "
        "  updated_at = now() "
        "WHERE (billing_accounts.external_ref, billing_accounts.billing_email, billing_accounts.currency, "
        "  billing_accounts.status) IS DISTINCT FROM "
        "  (EXCLUDED.external_ref, EXCLUDED.billing_email, EXCLUDED.currency, 'active')",
        tenant, want.account_ref, want.billing_email, want.plan.currency);
    const std::string account_id =
        tx.exec_params1("SELECT id FROM control_plane.billing_accounts WHERE tenant_id = $1::uuid", tenant)[0]
            .as<std::string>();
    tx.exec_params(
        "INSERT INTO control_plane.billing_subscriptions (account_id, external_ref, plan_code) "
        "VALUES ($1::uuid, $2, $3) "
        "ON CONFLICT (account_id) DO UPDATE SET external_ref = EXCLUDED.external_ref, "
        "  plan_code = EXCLUDED.plan_code, status = 'active', updated_at = now() "
        "WHERE (billing_subscriptions.external_ref, billing_subscriptions.plan_code, "
        "billing_subscriptions.status) "
        "  IS DISTINCT FROM (EXCLUDED.external_ref, EXCLUDED.plan_code, 'active')",
        account_id, want.subscription_ref, want.plan.code);
  });
  ctx.set_output("billing_account_ref", want.account_ref);
  ctx.set_output("billing_plan", want.plan.code);
}

void BillingAccountStep::remove(Context& ctx) {
  const std::string url = ctx.required_setting(kDatabaseSetting);
  auto session = Pool().Acquire(url);
  if (!BillingTablesExist(*session)) return;  // nothing was ever created
  session->Transact("delete the billing account", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    tx.exec_params("DELETE FROM control_plane.billing_accounts WHERE tenant_id = $1::uuid", ctx.tenant_id());
  });
}

}  // namespace matih::plugins::billing
