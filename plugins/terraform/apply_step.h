// terraform.apply (step 52 terraform-apply; step 53 provision-ai-services with module
// ai-services): applies the tenant's module — the plan step 51 saved when `saved_plan` and it
// is there, else a fresh plan — and records `terraform output -json` as the step's outputs;
// sensitive outputs go to the secret store only (terraform/<module>/output/<name>), the output
// then names the secret. Observe: as terraform.plan. Remove: terraform destroy of the workspace,
// then the workspace, its secrets and its files. Safe to call from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::terraform {

class ApplyStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::terraform
