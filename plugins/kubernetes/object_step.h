// kubernetes.object (steps 7-13): renders the Kubernetes objects of a template in
// config/templates/ with the tenant's values and delivers them through the configured target.
//
// Params (catalog):
//   template       required  file name in the template directory ("namespace.yaml")
//   mode           optional  object (default): the step owns whole objects; patch: it only adds
//                            fields to an object another step owns (see object_delivery.h)
//   templates_dir  optional  overrides setting templates.dir
//   sizes          optional  {tier: {cpu_requests, cpu_limits, memory_requests, memory_limits,
//                            pvcs, services}}; for ENTERPRISE the spec's `quotas` override it
//   limits         optional  {tier: {...}} container defaults for the LimitRange
//   anything else  passed to the template as params.<key>
// Template values: tenant_id, slug, tier, region, display_name, namespace ("tenant-<slug>"),
// managed_by, sizes, limits, params. Values are YAML-escaped; templates quote them.
// Settings read ([targets]):
//   kubernetes.delivery    optional  gitops (default) | api
//   templates.dir          required* directory of the templates (*or param templates_dir)
//   kubernetes.managed_by  optional  value of app.kubernetes.io/managed-by (default matih-provisioner)
//   plus those of gitops_delivery.h or kube_api_delivery.h / kube_credentials.h.
// Outputs: namespace, objects ("Kind name" list), set by apply and by an observe that finds the
// objects in sync. The kind is adoptable: the objects' names derive from the tenant and the
// template alone, and delivering them again changes nothing. Safe to call from any thread.
#pragma once

#include <matih/step.hpp>
#include <memory>

#include "kube_delivery/kube_object.h"
#include "kube_delivery/object_delivery.h"

namespace matih::plugins {

class KubernetesObjectStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;

  // The batch of this call: rendered and parsed.
  static ObjectBatch Render(const Context& ctx);

 private:
  static void SetOutputs(Context& ctx, const ObjectBatch& batch);
};

}  // namespace matih::plugins
