#include "data/tier_servers.h"

namespace matih::plugins::data {

TierClass TierClassOf(std::string_view tier) {
  if (tier == "free" || tier == "starter") return TierClass::kShared;
  if (tier == "professional" || tier == "enterprise") return TierClass::kDedicated;
  throw InvalidArgument("unknown tier '" + std::string(tier) + "' (free, starter, professional, enterprise)");
}

const char* TierClassName(TierClass tier_class) {
  return tier_class == TierClass::kShared ? "shared" : "dedicated";
}

std::string ServerSettingKey(const Context& ctx, std::string_view what) {
  return std::string("data.") + TierClassName(TierClassOf(ctx.tier())) + "." + std::string(what);
}

std::optional<std::string> OptionalServerSetting(const Context& ctx, std::string_view what) {
  auto value = ctx.setting(ServerSettingKey(ctx, what));
  if (value && value->empty()) return std::nullopt;
  return value;
}

std::string RequiredServerSetting(const Context& ctx, std::string_view what) {
  const std::string key = ServerSettingKey(ctx, what);
  auto value = OptionalServerSetting(ctx, what);
  if (!value)
    throw PermanentError("step " + ctx.step_name() + ": missing runner setting targets." + key + " (tier " +
                         ctx.tier() + " is served by the " + TierClassName(TierClassOf(ctx.tier())) +
                         " servers; a dedicated tier never falls back to the shared ones)");
  return *value;
}

std::string Describe(const Context& ctx, std::string_view target, std::string_view what) {
  return "step " + ctx.step_name() + " on " + std::string(target) + ": " + std::string(what);
}

}  // namespace matih::plugins::data
