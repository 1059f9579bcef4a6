// StepCatalog: the steps (config/catalog.yaml), the phases and the tier flows.
//
// Loading is strict: an unknown key, a duplicate number or name, a phase or tier that does not
// exist, an unparsable duration: each is an InvalidArgument naming the file, the step and the
// key. Immutable after loading; safe to share between threads.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/retry_policy.h"

namespace matih::runner {

class StepKindRegistry;

struct CatalogStep {
  int number = 0;
  std::string name;
  int phase = 0;
  std::string kind;
  std::set<std::string> tiers;
  std::string params_json = "{}";
  bool enabled = true;
  // Empty: the step runs for every tenant of its tiers. Otherwise the name of a service of the
  // service catalog: the step runs only for tenants whose spec requests it (`services: [...]`),
  // and is SKIPPED (its earlier work removed) for the others.
  std::string when_service;
  // `placed: true|false`: whether this step's objects live on the tenant's targets and move with
  // it on a tier change (engine/tier_upgrade.h). Unset: as its phase is in the flow's `placed`.
  // Set for a step whose object lives on a tier-placed server while the rest of its phase does
  // not (step 45's audit stream on the tenant's NATS, in phase 6).
  std::optional<bool> placed;
  RetryPolicy retry;
  Millis timeout{120'000};
};

struct TierFlow {
  std::string placement;    // shared | dedicated
  std::vector<int> phases;  // in execution order
  // Phases whose objects live on the tenant's targets (shared servers, or its own from phase 7):
  // a tier change that moves the tenant re-applies them there and removes them from the old ones
  // (engine/tier_upgrade.h). Empty: nothing is moved.
  std::set<int> placed;
  // Tiers of the other placement whose tenants may change to this tier (a downgrade from
  // dedicated to shared is refused unless listed here).
  std::set<std::string> downgrade_from;
};

// Step numbers a catalog may use: 1-56 are the platform's own steps (DESIGN.md), 1000-1999 are for
// third parties' steps (sdk/README.md).
inline constexpr int kMinStepNumber = 1;
inline constexpr int kMaxStepNumber = 1999;

class StepCatalog {
 public:
  static Result<StepCatalog> LoadFile(const std::string& path);
  static Result<StepCatalog> LoadString(const std::string& yaml, const std::string& origin);

  // Every enabled step's kind must be loaded and accept its params.
  Status CheckKinds(const StepKindRegistry& kinds) const;

  const std::vector<CatalogStep>& steps() const { return steps_; }  // by number
  const CatalogStep* Find(int number) const;
  const CatalogStep* FindByName(const std::string& name) const;
  const std::map<int, std::string>& phases() const { return phases_; }
  const TierFlow* Flow(const std::string& tier) const;
  std::vector<std::string> Tiers() const;

  // Every step in the order the tier runs them: the flow's phases in order, steps by number
  // within a phase, then the steps of phases outside the flow (which the tier skips).
  std::vector<const CatalogStep*> Ordered(const std::string& tier) const;
  // Whether `step` runs for `tier`: enabled, tier listed, phase in the flow.
  bool Applies(const CatalogStep& step, const std::string& tier) const;
  // The same for one tenant: also its requested services, for steps with `when_service`.
  bool Applies(const CatalogStep& step, const std::string& tier, const std::set<std::string>& services) const;

 private:
  std::vector<CatalogStep> steps_;
  std::map<int, std::string> phases_;
  std::map<std::string, TierFlow> flows_;
};

}  // namespace matih::runner
