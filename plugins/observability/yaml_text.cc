#include "observability/yaml_text.h"

#include <yaml-cpp/yaml.h>

#include <regex>

namespace matih::plugins::observability {
namespace {

bool NeedsQuotes(const std::string& s) {
  static const std::regex kAmbiguous(
      R"(^$|^(true|false|yes|no|on|off|y|n|null|~)$|^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$|^0x[0-9a-fA-F]+$|^[-+]?\.(inf|nan)$)",
      std::regex::icase);
  return std::regex_search(s, kAmbiguous);
}

void Emit(YAML::Emitter& out, const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, value] : v.items()) {
        out << YAML::Key << key << YAML::Value;
        Emit(out, value);
      }
      out << YAML::EndMap;
      break;
    case nlohmann::json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& item : v) Emit(out, item);
      out << YAML::EndSeq;
      break;
    case nlohmann::json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      if (NeedsQuotes(s)) out << YAML::DoubleQuoted;
      out << s;
      break;
    }
    case nlohmann::json::value_t::boolean: out << (v.get<bool>() ? "true" : "false"); break;
    case nlohmann::json::value_t::null: out << YAML::Null; break;
    default: out << v.dump(); break;  // numbers: JSON's spelling is YAML's
  }
}

}  // namespace

std::string YamlText(const nlohmann::json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  Emit(out, value);
  return std::string(out.c_str()) + "\n";
}

}  // namespace matih::plugins::observability
