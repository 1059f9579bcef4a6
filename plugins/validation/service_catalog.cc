#include "validation/service_catalog.h"

#include <yaml-cpp/yaml.h>

#include <matih/step.hpp>
#include <mutex>

#include "common/settings.h"

namespace matih::plugins {

namespace {

// The last file parsed, by path and text.
struct LastParse {
  std::mutex mu;
  std::string path, text;
  std::set<std::string> names;
};

LastParse& Last() {
  static LastParse last;
  return last;
}

}  // namespace

ServiceCatalog ServiceCatalog::Load(const std::string& path) {
  const std::string text = ReadTextFile(path, "service catalog");
  ServiceCatalog catalog;
  {
    std::lock_guard<std::mutex> lock(Last().mu);
    if (Last().path == path && Last().text == text) {
      catalog.names_ = Last().names;
      return catalog;
    }
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
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
  std::lock_guard<std::mutex> lock(Last().mu);
  Last().path = path;
  Last().text = text;
  Last().names = catalog.names_;
  return catalog;
}

}  // namespace matih::plugins
