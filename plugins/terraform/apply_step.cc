#include "terraform/apply_step.h"

#include <filesystem>

#include "terraform/module_params.h"
#include "terraform/plan_step.h"
#include "terraform/state_lock.h"
#include "terraform/terraform_cli.h"
#include "terraform/terraform_db.h"

namespace matih::plugins::terraform {

Observation ApplyStep::observe(Context& ctx) { return ObserveModule(ctx, ctx.params_json()); }

void ApplyStep::apply(Context& ctx) {
  ReleasingOnFailure(ctx, [&] {
    const ModuleParams params = ParseModuleParams(ctx.params_json());
    AcquireStateLock(ctx);
    TerraformCli cli(ctx, params.module, SecretVars(ctx, params, true));
    TerraformRunGuard guard(ctx);
    cli.Init();
    cli.SelectWorkspace(true);
    if (!params.saved_plan || !cli.SavedPlanIsCurrent()) cli.Plan(true);
    if (std::filesystem::exists(cli.plan_file())) cli.ApplySavedPlan();
    const nlohmann::json outputs = cli.Outputs();
    for (const auto& [name, output] : outputs.items()) {
      const auto& value = output.at("value");
      const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
      if (output.value("sensitive", false)) {
        const std::string secret = OutputSecretName(params.module, name);
        if (ctx.secret(secret) != text) ctx.put_secret(secret, text);
        ctx.set_output(name, "secret:" + secret);
      } else {
        ctx.set_output(name, text);
      }
    }
  });
}

void ApplyStep::remove(Context& ctx) {
  const ModuleParams params = ParseModuleParams(ctx.params_json());
  bool secret_missing = false;
  auto vars = SecretVars(ctx, params, false, &secret_missing);
  for (auto& var : vars)
    if (var.second.empty()) var.second = "destroyed";  // destroy needs a value, not the old one
  TerraformCli cli(ctx, params.module, vars);
  if (StateExists(DatabaseUrl(ctx), cli.schema(), cli.workspace())) {
    TerraformRunGuard guard(ctx);
    cli.Init();
    cli.SelectWorkspace(false);
    std::vector<std::string> sensitive;
    const nlohmann::json outputs = cli.Outputs();
    for (const auto& [name, output] : outputs.items())
      if (output.value("sensitive", false)) sensitive.push_back(name);
    cli.DestroyAndDeleteWorkspace();
    for (const auto& name : sensitive) ctx.delete_secret(OutputSecretName(params.module, name));
  }
  for (const auto& name : params.secret_vars)
    ctx.delete_secret("terraform/" + params.module + "/var/" + name);
}

void ApplyStep::validate_params(std::string_view params_json) { ParseModuleParams(params_json); }

}  // namespace matih::plugins::terraform
