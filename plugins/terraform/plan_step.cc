#include "terraform/plan_step.h"

#include <filesystem>

#include "terraform/module_params.h"
#include "terraform/state_lock.h"
#include "terraform/terraform_cli.h"
#include "terraform/terraform_db.h"

namespace matih::plugins::terraform {

Observation ObserveModule(Context& ctx, std::string_view params_json) {
  const ModuleParams params = ParseModuleParams(params_json);
  bool secret_missing = false;
  TerraformCli cli(ctx, params.module, SecretVars(ctx, params, false, &secret_missing));
  if (!StateExists(DatabaseUrl(ctx), cli.schema(), cli.workspace())) return Observation::Absent();
  if (secret_missing)
    return Observation::Drifted("a secret variable of module " + params.module + " is missing");
  // Read-only: no run guard and no state lock, so an observe never blocks a running apply.
  cli.Init();
  cli.SelectWorkspace(false);
  PlanResult plan = cli.Plan(false, /*lock_state=*/false);
  if (!plan.changes) return Observation::InSync();
  return Observation::Drifted("terraform module " + params.module + ": " + plan.summary);
}

Observation PlanStep::observe(Context& ctx) { return ObserveModule(ctx, ctx.params_json()); }

void PlanStep::apply(Context& ctx) {
  ReleasingOnFailure(ctx, [&] {
    AcquireStateLock(ctx);
    const ModuleParams params = ParseModuleParams(ctx.params_json());
    TerraformCli cli(ctx, params.module, SecretVars(ctx, params, true));
    TerraformRunGuard guard(ctx);
    cli.Init();
    cli.SelectWorkspace(true);
    PlanResult plan = cli.Plan(true);
    ctx.set_output("plan_summary", plan.changes ? plan.summary : "no changes");
  });
}

void PlanStep::remove(Context& ctx) {
  const ModuleParams params = ParseModuleParams(ctx.params_json());
  TerraformCli cli(ctx, params.module, {});
  std::error_code ec;
  std::filesystem::remove(cli.plan_file(), ec);
  std::filesystem::remove(cli.plan_file() + ".serial", ec);
}

void PlanStep::validate_params(std::string_view params_json) { ParseModuleParams(params_json); }

}  // namespace matih::plugins::terraform
