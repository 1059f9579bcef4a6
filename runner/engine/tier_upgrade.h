// TierUpgrade: moving a tenant's objects when its tier changes where they live.
//
// Each step of a flow's `placed` phases (catalog; 2-5: Kubernetes, storage, data, services), and
// each step the catalog marks `placed: true` outside them (its own `placed: false` takes a step of
// a placed phase out), records where it put its objects, in its record's outputs under kPlacementKey:
// "shared:<tier>" (the runner's [targets]) or "dedicated:<tier>" (the tenant's own targets,
// tenant_targets.h). When the tenant's current placement differs from a step's (an upgrade FREE
// -> PROFESSIONAL), the step is converged again even if known done; if its object is ABSENT at
// the new place, the old placement is remembered under kLeftBehindKey, durably, before anything
// is applied. Once the whole flow has converged, RemoveLeftBehind() removes those objects from
// the old place (the old tier, the runner's [targets] without the tenant's overlay, the steps'
// outputs as they were there), in reverse flow order, and checks that the new object survived (a place that
// was in fact the same is converged again). Only then does the orchestrator make the tenant ACTIVE. A failure
// part-way leaves every object not yet moved where it was; LeftToDo() says what remains. Stateless; works on
// one ProvisioningService, on its worker thread.
#pragma once

#include <string>

#include "engine/provisioning_service.h"

namespace matih::runner {

class TierUpgrade {
 public:
  static constexpr const char* kPlacementKey = "runner.placement";
  static constexpr const char* kLeftBehindKey = "runner.left_behind";
  // The step's own outputs at the old placement (JSON object): a later step's remove there reads
  // them (e.g. the storage account the containers were in), not the new ones.
  static constexpr const char* kLeftBehindOutputsKey = "runner.left_behind_outputs";

  // Keeps `rec`'s outputs at its recorded placement (once) and, when `object_left`, marks its
  // object there for removal.
  static void MarkLeftBehind(StepRecord& rec, bool object_left);

  // "" when `step` is not placed in the tenant's flow (its `placed`, else its phase's); otherwise
  // "shared:<tier>" or "dedicated:<tier>" for the tenant as it is now.
  static std::string Placement(const ProvisioningService& service, const CatalogStep& step);
  // Whether a step recorded at another placement than `placement` must be converged again.
  static bool MustMove(const StepRecord& rec, const std::string& placement);

  // Removes every object left at an old placement, in reverse flow order. With `verify`, each
  // step is observed again at its new place afterwards and re-applied if it is not in sync.
  static FlowResult RemoveLeftBehind(ProvisioningService& service, bool verify);

  // "" when nothing is left; otherwise what remains of a move, for the tenant's last error.
  static std::string LeftToDo(const ProvisioningService& service);
};

}  // namespace matih::runner
