// services.helm_release (steps 26-38): one Helm release per service, delivered as a Flux
// HelmRelease (helm.toolkit.fluxcd.io/v2) plus the HelmRepository (source.toolkit.fluxcd.io/v1)
// it installs from, both in the tenant's namespace "tenant-<slug>", through the tenant's delivery
// target (plugins/support/kube_delivery: a GitOps folder tenants/<slug>/<step>.yaml, or the API).
//
// Params: release_params.h. Values of the release: `values`, then `tiers.<tier>` merged over
// them, then the earlier steps' outputs named in `from_outputs` (each omitted while absent), then
// `matih` {tenant {id, slug, tier, region}, service, publicUrl} set by the kind. The result must
// satisfy <services.values_schema_dir>/<service>.values.schema.json (values_schema.h) or the
// call fails with InvalidArgument naming the service and every violation; nothing is delivered.
//
// Only services the tenant's spec requests (`services: [...]`) are deployed. For any other:
// observe is IN_SYNC while nothing is delivered (DRIFTED while an old release still is), apply
// removes what an earlier run delivered, and nothing new is ever deployed.
// Observe compares the delivered objects (chart version, values, every field) with the rendered
// ones, so a chart version changed in the catalog is DRIFTED and the next drift pass rolls it out.
//
// Settings read ([targets]):
//   services.values_schema_dir  required  folder of <service>.values.schema.json
//   services.parent_zone        optional  DNS zone under which tenants live: publicUrl
//                                         https://<service>.<slug>.<zone> and output url
//   kubernetes.managed_by       optional  app.kubernetes.io/managed-by (default matih-provisioner)
//   plus the delivery's: kubernetes.delivery, gitops.* or kubernetes.* (see kube_delivery).
// Outputs: deployed (true|false), release, namespace, chart (name@version), url (when deployed
// and a parent zone is set), wired_outputs (the value pointers filled from earlier outputs), set
// by apply and by an observe that finds the release in sync. The kind is adoptable: the objects'
// names derive from the tenant and the params alone, and delivering them again changes nothing.
// Safe to call from any thread.
#pragma once

#include <matih/step.hpp>

#include "kube_delivery/kube_object.h"
#include "services/release_params.h"

namespace matih::plugins::services {

class HelmReleaseStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;

  // What one call delivers (or removes) and whether the tenant asked for the service.
  struct Rendered {
    ReleaseParams params;
    bool requested = false;
    ObjectBatch batch;
    std::vector<std::string> wired;  // pointers filled from earlier outputs
  };
  // `for_removal`: the objects without their values (remove needs only names and kinds).
  static Rendered Render(const Context& ctx, bool for_removal = false);

 private:
  static void SetOutputs(Context& ctx, const Rendered& r);
};

}  // namespace matih::plugins::services
