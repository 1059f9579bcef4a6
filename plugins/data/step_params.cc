#include "data/step_params.h"

#include <matih/step.hpp>

namespace matih::plugins::data {

nlohmann::json ParamsObject(std::string_view text) {
  auto params = nlohmann::json::parse(text.empty() ? std::string_view("{}") : text, nullptr, false);
  if (!params.is_object()) throw InvalidArgument("params must be an object");
  return params;
}

void RefuseUnknownKeys(const nlohmann::json& object, std::initializer_list<const char*> allowed,
                       const std::string& where) {
  for (const auto& item : object.items()) {
    bool known = false;
    for (const char* key : allowed) known = known || item.key() == key;
    if (known) continue;
    std::string list;
    for (const char* key : allowed) list += (list.empty() ? "" : ", ") + std::string(key);
    throw InvalidArgument("unknown param " + where + item.key() +
                          (list.empty() ? " (none allowed)" : " (allowed: " + list + ")"));
  }
}

long long IntegerIn(const nlohmann::json& object, const char* key, long long min, long long max,
                    const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer() || it->get<long long>() < min ||
      it->get<long long>() > max)
    throw InvalidArgument("param " + where + key + " must be an integer from " + std::to_string(min) +
                          " to " + std::to_string(max));
  return it->get<long long>();
}

bool IsPlainIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 63 || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
    return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

}  // namespace matih::plugins::data
