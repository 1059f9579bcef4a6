// terraform.lock (step 50, acquire-terraform-state-lock): takes the tenant's Terraform state
// lock for this claim (state_lock.h); step 54 releases it, and so do the failure paths of steps
// 51-54 and remove. Outputs: lock_epoch, lock_expires_at. Safe to call from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::terraform {

class StateLockStep final : public Step {
 public:
  // InSync when this claim's epoch holds an unexpired lock; Absent otherwise (free, expired or
  // held by another claim: apply decides).
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::terraform
