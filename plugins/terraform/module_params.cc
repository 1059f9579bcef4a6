#include "terraform/module_params.h"

#include <nlohmann/json.hpp>
#include <regex>

#include "common/secure_token.h"

namespace matih::plugins::terraform {
namespace {

const std::regex kName("[a-z0-9][a-z0-9_-]{0,62}");

}  // namespace

ModuleParams ParseModuleParams(std::string_view params_json) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(params_json.empty() ? std::string_view("{}") : params_json);
  } catch (const std::exception&) {
    throw InvalidArgument("terraform step params are not JSON");
  }
  if (!j.is_object()) throw InvalidArgument("terraform step params must be an object");
  ModuleParams p;
  for (const auto& [key, value] : j.items()) {
    if (key == "module") {
      if (!value.is_string() || !std::regex_match(value.get<std::string>(), kName))
        throw InvalidArgument("terraform param 'module' must be a folder name ([a-z0-9-]+)");
      p.module = value.get<std::string>();
    } else if (key == "secret_vars") {
      if (!value.is_array())
        throw InvalidArgument("terraform param 'secret_vars' must be a list of variable names");
      for (const auto& v : value) {
        if (!v.is_string() || !std::regex_match(v.get<std::string>(), kName))
          throw InvalidArgument("terraform param 'secret_vars' holds a bad variable name");
        p.secret_vars.push_back(v.get<std::string>());
      }
    } else if (key == "saved_plan") {
      if (!value.is_boolean()) throw InvalidArgument("terraform param 'saved_plan' must be true or false");
      p.saved_plan = value.get<bool>();
    } else if (key == "from_step") {
      if (!value.is_string() || value.get<std::string>().empty())
        throw InvalidArgument("terraform param 'from_step' must be a step name");
      p.from_step = value.get<std::string>();
    } else {
      throw InvalidArgument("unknown terraform param '" + key +
                            "' (module, secret_vars, saved_plan, from_step)");
    }
  }
  return p;
}

std::vector<std::pair<std::string, std::string>> SecretVars(Context& ctx, const ModuleParams& params,
                                                            bool create, bool* missing) {
  std::vector<std::pair<std::string, std::string>> vars;
  for (const auto& name : params.secret_vars) {
    const std::string secret = "terraform/" + params.module + "/var/" + name;
    auto value = ctx.secret(secret);
    if (!value && create) {
      value = RandomBase62(40);
      ctx.put_secret(secret, *value);
    }
    if (!value && missing) *missing = true;
    vars.emplace_back(name, value.value_or(""));
  }
  return vars;
}

}  // namespace matih::plugins::terraform
