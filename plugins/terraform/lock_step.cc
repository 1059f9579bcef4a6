#include "terraform/lock_step.h"

#include "terraform/module_params.h"
#include "terraform/state_lock.h"

namespace matih::plugins::terraform {

Observation StateLockStep::observe(Context& ctx) {
  auto held = ReadStateLock(ctx);
  if (!held || (held->epoch == ctx.lease_epoch() && !held->expired)) return Observation::InSync();
  return Observation::Drifted("the Terraform state lock is held by run " + held->run_id + " (lease epoch " +
                              std::to_string(held->epoch) + (held->expired ? ", expired " : ", until ") +
                              held->expires_at + ")");
}

void StateLockStep::apply(Context& ctx) {
  LockHolder held = AcquireStateLock(ctx);
  ctx.set_output("lock_epoch", std::to_string(held.epoch));
  ctx.set_output("lock_expires_at", held.expires_at);
}

void StateLockStep::remove(Context& ctx) { ReleaseStateLock(ctx, /*and_older=*/true); }

void StateLockStep::validate_params(std::string_view params_json) {
  if (!ParseModuleParams(params_json).secret_vars.empty())
    throw InvalidArgument("terraform.lock takes no secret_vars");
}

}  // namespace matih::plugins::terraform
