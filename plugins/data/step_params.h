// Checks shared by the params of this plugin's step kinds (catalog params are a JSON object).
// Every failure is InvalidArgument naming the param. Pure functions; safe from any thread.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace matih::plugins::data {

// The params as a JSON object ("" is {}).
nlohmann::json ParamsObject(std::string_view text);
// Refuses a key that is not in `allowed` (a typo must not pass silently).
void RefuseUnknownKeys(const nlohmann::json& object, std::initializer_list<const char*> allowed,
                       const std::string& where);
// `object[key]` as an integer in [min, max].
long long IntegerIn(const nlohmann::json& object, const char* key, long long min, long long max,
                    const std::string& where);
// A plain lowercase SQL identifier: [a-z_][a-z0-9_]*, at most 63 characters.
bool IsPlainIdentifier(std::string_view name);

inline constexpr const char* kTiers[] = {"free", "starter", "professional", "enterprise"};

}  // namespace matih::plugins::data
