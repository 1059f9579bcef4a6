// Shared set-up of the phase 5 tests (steps 26-39): a StepHarness whose settings point the
// services plugin at config/services and the parent zone of the tests, and small git helpers.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "common/yaml_json.h"
#include "steps/step_harness.h"

namespace matih::testing {

inline constexpr const char* kParentZone = "tenants.matih.test";

inline void ConfigureServices(StepHarness& harness) {
  harness.settings()["services.values_schema_dir"] = std::string(MATIH_SOURCE_DIR) + "/config/services";
  harness.settings()["services.parent_zone"] = kParentZone;
}

// Sets the tenant's requested services.
inline void RequestServices(TestTenant& tenant, const std::vector<std::string>& services) {
  auto spec = nlohmann::json::parse(tenant.view.spec_json);
  spec["services"] = services;
  tenant.view.spec_json = spec.dump();
}

// The catalog params of `step` as JSON, to change one field in a test.
inline nlohmann::json CatalogParams(StepHarness& harness, const std::string& step) {
  return nlohmann::json::parse(harness.Step(step).params_json);
}

}  // namespace matih::testing
