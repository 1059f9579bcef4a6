// Small parsers for runner settings ([targets] values) and step params shared by the built-in
// plugins: comma lists, booleans, whole files. Pure functions; safe from any thread.
#pragma once

#include <matih/step.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace matih::plugins {

// "a, b,,c" -> {"a", "b", "c"}: trimmed, empty items dropped, order kept.
std::vector<std::string> SplitList(std::string_view text);
// SplitList into a set.
std::set<std::string> SplitSet(std::string_view text);
// true|false|yes|no|on|off|1|0 (any case); anything else is InvalidArgument naming `key`.
bool ParseBool(std::string_view key, std::string_view text);
// A non-negative integer setting; anything else is InvalidArgument naming `key`.
long long ParseCount(std::string_view key, std::string_view text);
// The whole file; PermanentError naming `what` (never its content) when it cannot be read.
std::string ReadTextFile(const std::string& path, std::string_view what);
std::string Trim(std::string_view text);

// A setting with a default.
inline std::string SettingOr(const Context& ctx, std::string_view key, std::string fallback) {
  auto value = ctx.setting(key);
  return value ? *value : std::move(fallback);
}

}  // namespace matih::plugins
