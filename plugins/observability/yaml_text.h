// YamlText: JSON values (nlohmann) written as block-style YAML text (yaml-cpp's emitter), for
// Prometheus rule files and Kubernetes objects built in code. A string that YAML would read as
// something else (a number, a boolean, null, empty) is double-quoted, so the text reads back as
// the same JSON (common/yaml_json.h). Pure function; safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace matih::plugins::observability {

std::string YamlText(const nlohmann::json& value);

}  // namespace matih::plugins::observability
