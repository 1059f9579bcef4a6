#include "storage/account_step.h"

#include <nlohmann/json.hpp>

#include "storage/account_pool.h"
#include "storage/storage_settings.h"
#include "storage/tenant_containers.h"

namespace matih::plugins::storage {
namespace {

const char* const kTiers[] = {"free", "starter", "professional", "enterprise"};

std::string WhatFor(const Context& ctx) { return "step " + ctx.step_name() + " of tenant " + ctx.slug(); }

std::string DatabaseUrl(const Context& ctx) {
  auto url = ctx.setting("storage.database_url");
  if (!url)
    throw PermanentError("missing runner setting targets.storage.database_url (the dedicated account pool)");
  return *url;
}

// The account the tenant holds; the pool's connection is held only for this read.
std::optional<std::string> HeldAccount(const std::string& database_url, const std::string& tenant_id) {
  auto pool = AccountPool::OpenExisting(database_url);
  return pool ? pool->HeldBy(tenant_id) : std::nullopt;
}

}  // namespace

std::string AccountStep::Placement(std::string_view params_json, const std::string& tier) {
  auto params =
      nlohmann::json::parse(params_json.empty() ? std::string_view("{}") : params_json, nullptr, false);
  if (!params.is_object()) throw InvalidArgument("params must be an object");
  for (const auto& [key, value] : params.items())
    if (key != "placement") throw InvalidArgument("unknown param '" + key + "' (known: placement)");
  std::map<std::string, std::string> placement = {
      {"free", "shared"}, {"starter", "shared"}, {"professional", "dedicated"}, {"enterprise", "dedicated"}};
  if (params.contains("placement")) {
    if (!params["placement"].is_object())
      throw InvalidArgument("param placement must map tiers to shared|dedicated");
    for (const auto& [t, p] : params["placement"].items()) {
      if (std::find(std::begin(kTiers), std::end(kTiers), t) == std::end(kTiers))
        throw InvalidArgument("param placement: unknown tier '" + t + "'");
      if (!p.is_string() || (p != "shared" && p != "dedicated"))
        throw InvalidArgument("param placement." + t + " must be shared or dedicated");
      placement[t] = p.get<std::string>();
    }
  }
  if (tier.empty()) return "shared";  // validate_params: the params alone are checked
  auto it = placement.find(tier);
  if (it == placement.end()) throw InvalidArgument("unknown tier '" + tier + "'");
  return it->second;
}

void AccountStep::validate_params(std::string_view params_json) { Placement(params_json, ""); }

Observation AccountStep::observe(Context& ctx) {
  const std::string placement = Placement(ctx.params_json(), ctx.tier());
  const auto settings = StorageSettings::Load(ctx);
  const auto recorded = ctx.output(ctx.step_name(), "account_name");
  std::string want;
  if (placement == "shared") {
    want = settings.shared_account();
  } else {
    const auto held = HeldAccount(DatabaseUrl(ctx), ctx.tenant_id());
    if (!held) {
      if (!recorded) return Observation::Absent();
      return Observation::Drifted("account " + *recorded +
                                  " is recorded but the tenant holds no dedicated account");
    }
    want = *held;
  }
  if (!recorded) return Observation::Absent();
  if (*recorded != want)
    return Observation::Drifted("account: have '" + *recorded + "', want " + placement + " '" + want + "'");
  settings.Client(want, WhatFor(ctx)).CheckAccess();
  return Observation::InSync();
}

void AccountStep::apply(Context& ctx) {
  const std::string placement = Placement(ctx.params_json(), ctx.tier());
  const auto settings = StorageSettings::Load(ctx);
  std::string account;
  if (placement == "shared") {
    account = settings.shared_account();
  } else {
    if (settings.dedicated_accounts().empty())
      throw PermanentError(
          "the tenant needs a dedicated storage account but targets.storage.dedicated_accounts is empty",
          MATIH_STATUS_RESOURCE_EXHAUSTED);
    account = AccountPool::Open(DatabaseUrl(ctx))
                  ->Claim(ctx.tenant_id(), ctx.slug(), settings.dedicated_accounts());
  }
  const auto client = settings.Client(account, WhatFor(ctx));
  client.CheckAccess();
  if (placement == "dedicated") {
    // A released account should be empty of other tenants' containers (remove deletes them);
    // what is left is an operator's business, not a reason to stop this tenant.
    int foreign = 0;
    for (const auto& c : client.ListContainers("")) {
      auto owner = c.metadata.find(kMetaTenantId);
      if (owner != c.metadata.end() && owner->second != ctx.tenant_id()) ++foreign;
    }
    if (foreign > 0)
      ctx.warn("dedicated storage account " + account + " holds " + std::to_string(foreign) +
               " container(s) of other tenants");
  }
  if (ctx.output(ctx.step_name(), "account_name") != account)
    ctx.info("tenant uses " + placement + " storage account " + account);
  ctx.set_output("account_name", account);
  ctx.set_output("blob_endpoint", client.account_url());
  ctx.set_output("placement", placement);
}

void AccountStep::remove(Context& ctx) {
  Placement(ctx.params_json(), ctx.tier());
  auto url = ctx.setting("storage.database_url");
  if (!url) return;  // no pool configured: nothing was ever claimed
  const auto held = HeldAccount(*url, ctx.tenant_id());
  if (!held) return;
  const auto settings = StorageSettings::Load(ctx);
  const auto client = settings.Client(*held, WhatFor(ctx));
  int deleted = 0;
  for (const auto& c : client.ListContainers("")) {
    auto owner = c.metadata.find(kMetaTenantId);
    if (owner != c.metadata.end() && owner->second == ctx.tenant_id() && client.DeleteContainer(c.name))
      ++deleted;
  }
  // The pool is opened again here: it holds its cached connection only while it lives.
  if (auto pool = AccountPool::OpenExisting(*url)) pool->Release(ctx.tenant_id());
  ctx.info("released dedicated storage account " + *held + " (" + std::to_string(deleted) +
           " container(s) of the tenant deleted)");
}

}  // namespace matih::plugins::storage
