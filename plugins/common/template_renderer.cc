#include "common/template_renderer.h"

#include <cstdio>
#include <kainjow/mustache.hpp>
#include <matih/step.hpp>

#include "common/settings.h"

namespace matih::plugins {
namespace {

namespace km = kainjow::mustache;

km::data ToMustache(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      km::data out{km::data::type::object};
      for (const auto& [k, v] : value.items()) out.set(k, ToMustache(v));
      return out;
    }
    case nlohmann::json::value_t::array: {
      km::data out{km::data::type::list};
      for (const auto& v : value) out.push_back(ToMustache(v));
      return out;
    }
    case nlohmann::json::value_t::string: return km::data(value.get<std::string>());
    case nlohmann::json::value_t::boolean: return km::data(value.get<bool>());
    case nlohmann::json::value_t::null: return km::data(false);
    default: return km::data(value.dump());
  }
}

}  // namespace

std::string TemplateRenderer::EscapeYamlDoubleQuoted(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

std::string TemplateRenderer::Render(const std::string& template_name, const nlohmann::json& values) const {
  if (template_name.empty() || template_name.find('/') != std::string::npos ||
      template_name.find("..") != std::string::npos)
    throw InvalidArgument("template name must be a plain file name: '" + template_name + "'");
  const std::string path = directory_ + "/" + template_name;
  km::mustache tmpl(ReadTextFile(path, "template " + template_name));
  if (!tmpl.is_valid())
    throw PermanentError("template " + template_name + " is invalid: " + tmpl.error_message());
  tmpl.set_custom_escape(&TemplateRenderer::EscapeYamlDoubleQuoted);
  std::string out = tmpl.render(ToMustache(values));
  if (!tmpl.is_valid())
    throw PermanentError("template " + template_name + " failed to render: " + tmpl.error_message());
  return out;
}

}  // namespace matih::plugins
