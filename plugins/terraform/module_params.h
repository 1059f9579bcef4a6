// The params of the Terraform step kinds (catalog `params:`), parsed and checked once, and the
// secret variables they name.
//   module       root module folder under terraform.modules_dir (one per tier below it);
//                "dedicated" (steps 51/52) or "ai-services" (step 53); [a-z0-9-]+
//   secret_vars  sensitive variables of the module: generated once (40 random characters),
//                kept in the secret store as terraform/<module>/var/<name>, passed as TF_VAR_*
//   saved_plan   terraform.apply only: apply the plan file step 51 saved (true) or plan itself
//   from_step    terraform.cluster only: the step whose outputs describe the cluster
// Pure functions; safe from any thread.
#pragma once

#include <matih/step.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace matih::plugins::terraform {

struct ModuleParams {
  std::string module = "dedicated";
  std::vector<std::string> secret_vars;
  bool saved_plan = false;
  std::string from_step = "terraform-apply";
};

// InvalidArgument naming the bad param.
ModuleParams ParseModuleParams(std::string_view params_json);

// The secret variables' values; absent ones are generated and stored when `create`, else
// returned empty (observe, remove).
std::vector<std::pair<std::string, std::string>> SecretVars(Context& ctx, const ModuleParams& params,
                                                            bool create, bool* missing = nullptr);

inline std::string OutputSecretName(const std::string& module, const std::string& output) {
  return "terraform/" + module + "/output/" + output;
}

}  // namespace matih::plugins::terraform
