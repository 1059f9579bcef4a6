#include "services/values_schema.h"

#include <matih/step.hpp>
#include <regex>
#include <set>

#include "common/settings.h"

namespace matih::plugins::services {
namespace {

const std::set<std::string> kKeywords = {"type",      "required",    "properties", "additionalProperties",
                                         "items",     "enum",        "minimum",    "maximum",
                                         "minLength", "pattern",     "$schema",    "$id",
                                         "title",     "description", "default",    "examples"};
const std::set<std::string> kTypes = {"object", "array", "string", "integer", "number", "boolean", "null"};

// Refuses what the checker would not understand; `where` is a JSON pointer into the schema.
void CheckSchema(const nlohmann::json& schema, const std::string& where, const std::string& origin) {
  auto fail = [&](const std::string& what) {
    throw PermanentError("values schema " + origin + " at " + (where.empty() ? "/" : where) + ": " + what);
  };
  if (!schema.is_object()) fail("a schema must be an object");
  for (const auto& [key, value] : schema.items()) {
    if (!kKeywords.count(key)) fail("keyword '" + key + "' is not supported by our checker");
    if (key == "type") {
      auto names = value.is_array() ? value : nlohmann::json::array({value});
      for (const auto& n : names)
        if (!n.is_string() || !kTypes.count(n.get<std::string>())) fail("unknown type " + n.dump());
    } else if (key == "required") {
      if (!value.is_array()) fail("required must be a list of names");
      for (const auto& n : value)
        if (!n.is_string()) fail("required must be a list of names");
    } else if (key == "properties") {
      if (!value.is_object()) fail("properties must be an object");
      for (const auto& [name, sub] : value.items()) CheckSchema(sub, where + "/properties/" + name, origin);
    } else if (key == "additionalProperties") {
      if (!value.is_boolean()) CheckSchema(value, where + "/additionalProperties", origin);
    } else if (key == "items") {
      CheckSchema(value, where + "/items", origin);
    } else if (key == "enum") {
      if (!value.is_array() || value.empty()) fail("enum must be a non-empty list");
    } else if (key == "minimum" || key == "maximum") {
      if (!value.is_number()) fail(key + " must be a number");
    } else if (key == "minLength") {
      if (!value.is_number_unsigned()) fail("minLength must be a non-negative integer");
    } else if (key == "pattern") {
      if (!value.is_string()) fail("pattern must be a string");
      try {
        std::regex(value.get<std::string>(), std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        fail("pattern " + value.dump() + " is not a valid regular expression");
      }
    }
  }
}

bool HasType(const nlohmann::json& value, const std::string& type) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "integer")
    return value.is_number_integer() ||
           (value.is_number_float() && value.get<double>() == static_cast<double>(value.get<long long>()));
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_boolean();
  return value.is_null();
}

void Check(const nlohmann::json& schema, const nlohmann::json& value, const std::string& path,
           std::vector<std::string>& out) {
  auto add = [&](const std::string& what) { out.push_back((path.empty() ? "values" : path) + ": " + what); };
  if (schema.contains("type")) {
    auto names = schema["type"].is_array() ? schema["type"] : nlohmann::json::array({schema["type"]});
    bool ok = false;
    for (const auto& n : names) ok = ok || HasType(value, n.get<std::string>());
    if (!ok) {
      add("must be of type " + (names.size() == 1 ? names[0].get<std::string>() : names.dump()) + ", not " +
          value.type_name());
      return;  // the other keywords would only repeat the same mistake
    }
  }
  if (schema.contains("enum")) {
    bool found = false;
    for (const auto& allowed : schema["enum"]) found = found || allowed == value;
    if (!found) add("must be one of " + schema["enum"].dump() + ", not " + value.dump());
  }
  if (value.is_number()) {
    if (schema.contains("minimum") && value.get<double>() < schema["minimum"].get<double>())
      add("must be at least " + schema["minimum"].dump() + ", not " + value.dump());
    if (schema.contains("maximum") && value.get<double>() > schema["maximum"].get<double>())
      add("must be at most " + schema["maximum"].dump() + ", not " + value.dump());
  }
  if (value.is_string()) {
    const auto text = value.get<std::string>();
    if (schema.contains("minLength") && text.size() < schema["minLength"].get<size_t>())
      add("must be at least " + schema["minLength"].dump() + " characters long");
    if (schema.contains("pattern") &&
        !std::regex_search(text, std::regex(schema["pattern"].get<std::string>(), std::regex::ECMAScript)))
      add("must match " + schema["pattern"].dump() + ", not " + value.dump());
  }
  if (value.is_object()) {
    if (schema.contains("required"))
      for (const auto& name : schema["required"])
        if (!value.contains(name.get<std::string>()))
          add("required property '" + name.get<std::string>() + "' is missing");
    const nlohmann::json none = nlohmann::json::object();
    const auto& properties = schema.contains("properties") ? schema["properties"] : none;
    for (const auto& [name, sub] : value.items()) {
      const std::string child = (path.empty() ? "values" : path) + "." + name;
      if (properties.contains(name)) {
        Check(properties[name], sub, child, out);
      } else if (schema.contains("additionalProperties")) {
        const auto& extra = schema["additionalProperties"];
        if (extra.is_boolean()) {
          if (!extra.get<bool>()) out.push_back(child + ": is not allowed by the schema");
        } else {
          Check(extra, sub, child, out);
        }
      }
    }
  }
  if (value.is_array() && schema.contains("items"))
    for (size_t i = 0; i < value.size(); ++i)
      Check(schema["items"], value[i], (path.empty() ? "values" : path) + "[" + std::to_string(i) + "]", out);
}

}  // namespace

ValuesSchema ValuesSchema::FromJson(nlohmann::json schema, const std::string& origin) {
  CheckSchema(schema, "", origin);
  ValuesSchema s;
  s.schema_ = std::move(schema);
  s.origin_ = origin;
  return s;
}

ValuesSchema ValuesSchema::Load(const std::string& path) {
  auto schema = nlohmann::json::parse(ReadTextFile(path, "values schema " + path), nullptr, false);
  if (schema.is_discarded()) throw PermanentError("values schema " + path + " is not valid JSON");
  return FromJson(std::move(schema), path);
}

std::vector<std::string> ValuesSchema::Violations(const nlohmann::json& values) const {
  std::vector<std::string> out;
  Check(schema_, values, "", out);
  return out;
}

}  // namespace matih::plugins::services
