// Fuzzes the catalog loader (runner/engine/step_catalog.cc, with its YAML guard): any text either
// loads or is refused with InvalidArgument naming the file. A catalog that loads is consistent:
// steps sorted by unique number and unique name, each step's phase declared, its params a JSON
// object, every tier's order listing each step once.
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "engine/step_catalog.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using matih::fuzz::Require;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto loaded = matih::runner::StepCatalog::LoadString(text, "fuzz.yaml");
  if (!loaded.ok()) {
    Require(loaded.status().code() == matih::runner::Code::kInvalidArgument,
            "refusal is not InvalidArgument");
    Require(loaded.status().message().find("fuzz.yaml") != std::string::npos,
            "refusal does not name the file");
    return 0;
  }
  const auto& catalog = *loaded;
  std::set<std::string> names;
  int last = 0;
  for (const auto& step : catalog.steps()) {
    Require(step.number > last, "steps not sorted by unique number");
    last = step.number;
    Require(names.insert(step.name).second, "duplicate step name loaded");
    Require(catalog.phases().count(step.phase) == 1, "step of an undeclared phase loaded");
    Require(catalog.Find(step.number) == &step, "Find does not return the step");
    Require(nlohmann::json::parse(step.params_json, nullptr, false).is_object(),
            "params are not a JSON object");
  }
  for (const auto& tier : catalog.Tiers()) {
    Require(catalog.Flow(tier) != nullptr, "a listed tier has no flow");
    auto order = catalog.Ordered(tier);
    Require(order.size() == catalog.steps().size(), "Ordered does not list every step once");
    std::set<int> seen;
    for (const auto* step : order) {
      Require(seen.insert(step->number).second, "Ordered lists a step twice");
      (void)catalog.Applies(*step, tier);
    }
  }
  return 0;
}
