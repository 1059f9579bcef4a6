// terraform.plan (step 51, terraform-plan): terraform plan of the tenant's module into a saved
// plan file that step 52 applies. Observe runs plan -detailed-exitcode without saving: 0 in sync,
// 2 drifted (the plan's counts, never values); no state for the tenant's workspace is Absent.
// Params: module_params.h. Safe to call from any thread (one terraform child per call).
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::terraform {

class PlanStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  // Holds the state lock (AcquireStateLock), creates the workspace when missing, saves the plan (none when
  // there is nothing to change). Outputs: plan_summary.
  void apply(Context& ctx) override;
  // Deletes the saved plan file.
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

// Shared by terraform.plan and terraform.apply: the drift of the tenant's workspace.
Observation ObserveModule(Context& ctx, std::string_view params_json);

}  // namespace matih::plugins::terraform
