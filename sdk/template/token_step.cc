#include "token_step.h"

#include <random>
#include <string>

namespace my_plugin {
namespace {

// A deliberately small reader for this template's one param: {"name": "<letters, digits, - _>"}.
// Real plugins usually parse params with a JSON library (nlohmann/json, RapidJSON...).
std::string NameParam(std::string_view json) {
  const auto key = json.find("\"name\"");
  if (key == std::string_view::npos) return "api-token";
  const auto open = json.find('"', json.find(':', key));
  const auto close = open == std::string_view::npos ? open : json.find('"', open + 1);
  if (close == std::string_view::npos) throw matih::InvalidArgument("param name must be a string");
  std::string name(json.substr(open + 1, close - open - 1));
  if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos)
    throw matih::InvalidArgument("param name '" + name + "' must be lowercase letters, digits, '-' or '_'");
  return name;
}

}  // namespace

void TokenStep::validate_params(std::string_view params_json) {
  const auto first = params_json.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && params_json[first] != '{')
    throw matih::InvalidArgument("params must be a JSON object");
  NameParam(params_json);
}

std::string TokenStep::SecretName(const matih::Context& ctx) { return NameParam(ctx.params_json()); }

size_t TokenStep::TokenBytes(const matih::Context& ctx) {
  const std::string text = ctx.setting("my.token_bytes").value_or("32");
  size_t used = 0;
  long n = 0;
  try {
    n = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || n < 16 || n > 64)
    throw matih::PermanentError("setting targets.my.token_bytes must be a number from 16 to 64, not '" +
                                text + "'");
  return static_cast<size_t>(n);
}

matih::Observation TokenStep::observe(matih::Context& ctx) {
  // secret() answers nullopt only when the token is absent; a store error throws (never "absent").
  auto token = ctx.secret(SecretName(ctx));
  if (!token) return matih::Observation::Absent();
  if (token->size() != 2 * TokenBytes(ctx)) return matih::Observation::Drifted("token has the wrong length");
  return matih::Observation::InSync();
}

void TokenStep::apply(matih::Context& ctx) {
  ctx.check_cancelled();
  if (observe(ctx).state == matih::Observation::State::kInSync) return;  // converged: write nothing
  std::random_device random;
  static const char kHex[] = "0123456789abcdef";
  std::string token;
  for (size_t i = 0; i < TokenBytes(ctx); ++i) {
    const unsigned byte = random() & 0xffu;
    token += kHex[byte >> 4];
    token += kHex[byte & 0xfu];
  }
  ctx.put_secret(SecretName(ctx), token);           // the value goes to the secret store only
  ctx.set_output("token_secret", SecretName(ctx));  // the name is fine to show; never the value
  ctx.info("stored a new token as secret " + SecretName(ctx));
}

void TokenStep::remove(matih::Context& ctx) { ctx.delete_secret(SecretName(ctx)); }

}  // namespace my_plugin
