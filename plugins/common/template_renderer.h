// TemplateRenderer: renders Kubernetes object templates (mustache, kainjow/mustache) from a
// template directory with a JSON object of values.
//
// Every {{value}} is escaped for a YAML double-quoted scalar (backslash, quote, control
// characters), so templates write values in double quotes ("{{slug}}") and a value can never
// inject YAML structure. Template names are plain file names; anything with a slash or ".." is
// refused. Stateless; safe to call from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace matih::plugins {

class TemplateRenderer {
 public:
  explicit TemplateRenderer(std::string directory) : directory_(std::move(directory)) {}

  // The rendered text; InvalidArgument for a bad name, PermanentError for a missing or broken
  // template.
  std::string Render(const std::string& template_name, const nlohmann::json& values) const;

  // Escapes `text` for the inside of a YAML double-quoted scalar.
  static std::string EscapeYamlDoubleQuoted(const std::string& text);

 private:
  std::string directory_;
};

}  // namespace matih::plugins
