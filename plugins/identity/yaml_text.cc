#include "identity/yaml_text.h"

#include <yaml-cpp/yaml.h>

namespace matih::plugins::identity {
namespace {

void Emit(YAML::Emitter& out, const nlohmann::json& value) {
  if (value.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [key, item] : value.items()) {
      out << YAML::Key << key << YAML::Value;
      Emit(out, item);
    }
    out << YAML::EndMap;
  } else if (value.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& item : value) Emit(out, item);
    out << YAML::EndSeq;
  } else if (value.is_string()) {
    out << YAML::DoubleQuoted << value.get<std::string>();
  } else if (value.is_null()) {
    out << YAML::Null;
  } else {
    out << value.dump();  // numbers and booleans, plain
  }
}

}  // namespace

std::string YamlText(const std::vector<nlohmann::json>& documents) {
  std::string text;
  for (const auto& document : documents) {
    YAML::Emitter out;
    Emit(out, document);
    if (!text.empty()) text += "---\n";
    text += out.c_str();
    text += "\n";
  }
  return text;
}

}  // namespace matih::plugins::identity
