// JsonToYaml: writes Kubernetes objects built as JSON (nlohmann) as block-style YAML documents,
// the form GitOps repositories hold and people review.
//
// Every string is double-quoted, so "1.10", "true" or "0755" stay strings when read back (the
// inverse is common/yaml_json.h's ParseYamlDocuments); keys keep JSON's sorted order, so the same
// objects always give the same bytes and a second apply writes nothing. Pure; safe from any
// thread. (A candidate for plugins/common/yaml_json.h if another plugin needs it.)
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace matih::plugins::services {

// One document per object, each starting with "---" and ending with "\n".
std::string JsonToYaml(const std::vector<nlohmann::json>& documents);

}  // namespace matih::plugins::services
