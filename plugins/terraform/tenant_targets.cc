#include "terraform/tenant_targets.h"

#include <nlohmann/json.hpp>

namespace matih::plugins::terraform {
namespace {

std::map<std::string, std::string> StringMap(const std::string& text, const std::string& what) {
  std::map<std::string, std::string> out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) throw PermanentError("register-dedicated-cluster: " + what + " is not a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string() || key.empty())
      throw PermanentError("register-dedicated-cluster: " + what + " entry '" + key + "' is not a string");
    out[key] = value.get<std::string>();
  }
  return out;
}

}  // namespace

TenantTargets WantedTargets(Context& ctx, const ModuleParams& params) {
  TenantTargets t;
  if (auto plain = ctx.output(params.from_step, "targets"); plain && !plain->empty())
    t.plain = StringMap(*plain, "output targets of step " + params.from_step);
  if (auto secret = ctx.secret(OutputSecretName(params.module, "target_secrets")); secret && !secret->empty())
    t.secrets = StringMap(*secret, "the sensitive output target_secrets of module " + params.module);
  for (const auto& [key, value] : t.secrets)
    if (t.plain.count(key))
      throw PermanentError("register-dedicated-cluster: setting " + key +
                           " is both in targets and target_secrets of module " + params.module);
  return t;
}

std::string TargetDifferences(Context& ctx, const TenantTargets& want) {
  std::string diff;
  auto add = [&](const std::string& d) { diff += (diff.empty() ? "" : "; ") + d; };
  for (const auto& [key, value] : want.plain)
    if (ctx.output(ctx.step_name(), kTargetOutputPrefix + key) != value) add("target " + key + " differs");
  for (const auto& [key, value] : want.secrets) {
    if (ctx.output(ctx.step_name(), kTargetOutputPrefix + key) != "vault:" + TargetSecretName(key) ||
        ctx.secret(TargetSecretName(key)) != value)
      add("secret target " + key + " differs");
  }
  return diff;
}

void RecordTargets(Context& ctx, const TenantTargets& want) {
  for (const auto& [key, value] : want.plain) ctx.set_output(kTargetOutputPrefix + key, value);
  for (const auto& [key, value] : want.secrets) {
    if (ctx.secret(TargetSecretName(key)) != value) ctx.put_secret(TargetSecretName(key), value);
    ctx.set_output(kTargetOutputPrefix + key, "vault:" + TargetSecretName(key));
  }
}

void ForgetTargets(Context& ctx, const ModuleParams& params) {
  auto secret = ctx.secret(OutputSecretName(params.module, "target_secrets"));
  if (!secret || secret->empty()) return;
  auto j = nlohmann::json::parse(*secret, nullptr, false);
  if (!j.is_object()) return;
  for (const auto& [key, value] : j.items()) ctx.delete_secret(TargetSecretName(key));
}

}  // namespace matih::plugins::terraform
