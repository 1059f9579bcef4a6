// YamlText: a JSON value (a Kubernetes object built in code) written as a YAML document, strings
// always double-quoted so "true" or "0123" stay strings whatever reads them. Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace matih::plugins::identity {

// The documents joined by "---" lines, ending in "\n": what kube_delivery's MakeBatch takes.
std::string YamlText(const std::vector<nlohmann::json>& documents);

}  // namespace matih::plugins::identity
