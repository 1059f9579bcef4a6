#include "common/tenant_spec.h"

#include <matih/step.hpp>

namespace matih::plugins {

TenantSpec TenantSpec::Parse(std::string_view json) {
  TenantSpec spec;
  try {
    spec.raw_ = nlohmann::json::parse(json.empty() ? std::string_view("{}") : json);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("tenant spec is not valid JSON: ") + e.what());
  }
  if (!spec.raw_.is_object()) throw InvalidArgument("tenant spec must be a JSON object");
  return spec;
}

std::string TenantSpec::String(const char* field) const {
  auto it = raw_.find(field);
  return it != raw_.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string TenantSpec::display_name(const std::string& fallback) const {
  std::string name = String("display_name");
  return name.empty() ? fallback : name;
}

std::vector<std::string> TenantSpec::services() const {
  std::vector<std::string> out;
  auto it = raw_.find("services");
  if (it != raw_.end() && it->is_array())
    for (const auto& s : *it)
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

}  // namespace matih::plugins
