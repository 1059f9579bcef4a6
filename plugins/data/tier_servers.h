// Which server serves a tenant, by tier class. Shared tiers (free, starter) get an isolated share
// of the shared servers, read from settings data.shared.<what>; dedicated tiers (professional,
// enterprise) use data.dedicated.<what>. Until phase 7 provisions dedicated servers, the operator
// points the dedicated settings at the servers to use (possibly the shared ones, but explicitly):
// a dedicated tenant never falls back to a shared server silently, a missing setting is a
// permanent error naming it.
// Also the one place that formats error messages of this plugin ("<step> on <target>: ...").
// Pure functions; safe from any thread.
#pragma once

#include <matih/step.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace matih::plugins::data {

enum class TierClass { kShared, kDedicated };

// InvalidArgument for a tier that is none of the four.
TierClass TierClassOf(std::string_view tier);
const char* TierClassName(TierClass tier_class);

// "data.shared.<what>" or "data.dedicated.<what>" for the tenant's tier.
std::string ServerSettingKey(const Context& ctx, std::string_view what);
// The value of that setting; PermanentError naming the setting and the step when it is missing.
std::string RequiredServerSetting(const Context& ctx, std::string_view what);
std::optional<std::string> OptionalServerSetting(const Context& ctx, std::string_view what);

// "step <name> on <target>: <what>", the prefix of every error this plugin raises.
std::string Describe(const Context& ctx, std::string_view target, std::string_view what);

}  // namespace matih::plugins::data
