#include "validation/service_catalog.h"

#include <yaml-cpp/yaml.h>

#include <matih/step.hpp>

#include "common/settings.h"

namespace matih::plugins {

ServiceCatalog ServiceCatalog::Load(const std::string& path) {
  ServiceCatalog catalog;
  YAML::Node root;
  try {
    root = YAML::Load(ReadTextFile(path, "service catalog"));
  } catch (const YAML::Exception& e) {
    throw PermanentError("service catalog " + path + " is not valid YAML: " + e.what());
  }
  if (!root["services"] || !root["services"].IsSequence())
    throw PermanentError("service catalog " + path + " has no `services` list");
  for (const auto& item : root["services"]) {
    if (!item["name"] || !item["name"].IsScalar())
      throw PermanentError("service catalog " + path + ": every service needs a name");
    catalog.names_.insert(item["name"].as<std::string>());
  }
  return catalog;
}

}  // namespace matih::plugins
