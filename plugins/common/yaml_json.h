// Conversions between YAML (yaml-cpp) and JSON (nlohmann) for Kubernetes objects.
//
// Plain scalars are typed the way Kubernetes' YAML decoder types them (integers, floats, true/
// false, null); quoted scalars stay strings. Pure functions; safe from any thread.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace matih::plugins {

nlohmann::json YamlToJson(const YAML::Node& node);
// Every non-empty document of a multi-document YAML text; InvalidArgument when it does not parse.
std::vector<nlohmann::json> ParseYamlDocuments(const std::string& text);

}  // namespace matih::plugins
