#include "common/yaml_json.h"

#include <matih/step.hpp>
#include <regex>

namespace matih::plugins {
namespace {

nlohmann::json PlainScalar(const std::string& text) {
  static const std::regex integer("^[-+]?[0-9]+$");
  static const std::regex floating(R"(^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$)");
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  if (std::regex_match(text, integer) && text.size() < 19) return std::stoll(text);
  if (std::regex_match(text, floating)) return std::stod(text);
  return text;
}

}  // namespace

nlohmann::json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(YamlToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar:
      // yaml-cpp tags quoted scalars "!" and plain ones "?".
      if (node.Tag() == "!") return node.Scalar();
      return PlainScalar(node.Scalar());
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: break;
  }
  return nullptr;
}

std::vector<nlohmann::json> ParseYamlDocuments(const std::string& text) {
  std::vector<nlohmann::json> docs;
  try {
    for (const auto& node : YAML::LoadAll(text))
      if (node.IsDefined() && !node.IsNull()) docs.push_back(YamlToJson(node));
  } catch (const YAML::Exception& e) {
    throw InvalidArgument(std::string("rendered YAML does not parse: ") + e.what());
  }
  return docs;
}

}  // namespace matih::plugins
