#include "services/yaml_writer.h"

#include <yaml-cpp/yaml.h>

namespace matih::plugins::services {
namespace {

void Emit(YAML::Emitter& out, const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key << key << YAML::Value;
        Emit(out, item);
      }
      out << YAML::EndMap;
      break;
    case nlohmann::json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& item : value) Emit(out, item);
      out << YAML::EndSeq;
      break;
    case nlohmann::json::value_t::string: out << YAML::DoubleQuoted << value.get<std::string>(); break;
    case nlohmann::json::value_t::boolean: out << YAML::TrueFalseBool << value.get<bool>(); break;
    case nlohmann::json::value_t::number_integer: out << value.get<long long>(); break;
    case nlohmann::json::value_t::number_unsigned: out << value.get<unsigned long long>(); break;
    case nlohmann::json::value_t::number_float: out << value.get<double>(); break;
    default: out << YAML::Null; break;
  }
}

}  // namespace

std::string JsonToYaml(const std::vector<nlohmann::json>& documents) {
  std::string text;
  for (const auto& doc : documents) {
    YAML::Emitter out;
    out.SetIndent(2);
    out.SetSeqFormat(YAML::Block);
    out.SetMapFormat(YAML::Block);
    Emit(out, doc);
    text += "---\n" + std::string(out.c_str()) + "\n";
  }
  return text;
}

}  // namespace matih::plugins::services
