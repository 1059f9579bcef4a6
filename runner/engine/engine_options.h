// EngineOptions: the policies of the engine, from the runner's configuration.
#pragma once

#include <map>
#include <set>
#include <string>

#include "common/duration.h"
#include "engine/retry_policy.h"

namespace matih::runner {

enum class FailurePolicy {
  kRollback,  // remove the applied steps in reverse order; the tenant ends ROLLED_BACK
  kPark,      // leave everything in place; the tenant ends FAILED until an operator acts
};

struct EngineOptions {
  Millis provisioning_deadline{30 * 60 * 1000};  // a whole provisioning of one tenant
  int max_tenant_attempts = 3;                   // runs that may fail transiently before the policy applies
  RetryPolicy tenant_backoff{0, Millis(30'000), Millis(3'600'000), 2.0, 0.2};  // between runs
  FailurePolicy failure_policy = FailurePolicy::kRollback;
  // How long the intent and result of adoptable steps may wait for a commit (run.commit_interval).
  Millis commit_interval{200};
  std::map<std::string, std::string> settings;  // [targets], handed to plugins
  // Keys of `settings` the runner adds itself (tenant.regions from [tenants]); not checked
  // against the settings plugins declare.
  std::set<std::string> runner_settings;
  // The settings each loaded plugin declared (plugin -> key -> secret), filled where the plugins
  // are loaded. Only these keys may be chosen by a tenant's own targets (engine/tenant_targets.h).
  std::map<std::string, std::map<std::string, bool>> declared_settings;
};

}  // namespace matih::runner
