// TenantSpec: read access to the tenant's spec (a JSON object) for the steps after validation.
//
// Field names (checked strictly by step 1, tenant.validate): admin_email, display_name, region,
// services [list of names from config/service-catalog.yaml], quotas (ENTERPRISE only), and
// optionally tier and slug (which must then equal the tenant row's). The runner copies the tenant
// row's region and admin_email into the spec, so plugins read them here.
// Immutable after Parse; safe to share between threads.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace matih::plugins {

class TenantSpec {
 public:
  // InvalidArgument when `json` is not a JSON object.
  static TenantSpec Parse(std::string_view json);

  const nlohmann::json& raw() const { return raw_; }
  // A string field, or "" when absent or not a string.
  std::string String(const char* field) const;
  std::string region() const { return String("region"); }
  std::string admin_email() const { return String("admin_email"); }
  // display_name, or `fallback` when there is none.
  std::string display_name(const std::string& fallback) const;
  std::vector<std::string> services() const;

 private:
  nlohmann::json raw_ = nlohmann::json::object();
};

}  // namespace matih::plugins
