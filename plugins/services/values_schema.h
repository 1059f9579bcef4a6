// ValuesSchema: checks a service's Helm values (JSON) against the values.schema.json kept with
// the service catalog (config/services/<service>.values.schema.json).
//
// Debian ships no JSON Schema library for C++, so this is a small checker of our own for the
// subset of JSON Schema (draft 2020-12 semantics) that our schemas use: type (a name or a list of
// names: object, array, string, integer, number, boolean, null), required, properties,
// additionalProperties (true, false or a schema), items (one schema), enum, minimum, maximum,
// minLength, pattern (ECMAScript regex, matched anywhere as JSON Schema says), plus the
// annotations $schema, $id, title, description, default, examples. A schema that uses any other
// keyword is refused when it is loaded, so a keyword we would silently ignore can never make a
// bad value look valid. Helm checks the same values against the chart's own schema at install;
// this check refuses them before anything is delivered.
//
// Immutable after Load; safe to share between threads.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace matih::plugins::services {

class ValuesSchema {
 public:
  // Parses and checks the schema file; PermanentError naming the file for an unreadable file,
  // bad JSON or a keyword outside the subset.
  static ValuesSchema Load(const std::string& path);
  // The same from JSON (tests); `origin` names it in messages.
  static ValuesSchema FromJson(nlohmann::json schema, const std::string& origin);

  // Every violation as "values/path: what is wrong"; empty when `values` is valid.
  std::vector<std::string> Violations(const nlohmann::json& values) const;

  const std::string& origin() const { return origin_; }

 private:
  nlohmann::json schema_;
  std::string origin_;
};

}  // namespace matih::plugins::services
