// terraform.lock (step 50, acquire-terraform-state-lock): takes the tenant's Terraform state
// lock for this claim (state_lock.h); step 54 releases it, and so do the failure paths of steps
// 51-54 and remove. A free lock is the resting state of a converged tenant, so observe answers
// InSync for it (a drift pass writes nothing); steps 51-54 take it themselves before they change
// anything. Outputs: lock_epoch, lock_expires_at. Safe to call from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::terraform {

class StateLockStep final : public Step {
 public:
  // InSync when the lock is free or this claim holds it; Drifted (naming the holder, run id and
  // epoch only) when another claim holds it, live or expired: apply waits, takes over or refuses.
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::terraform
