// compliance.policies (step 48, apply-compliance-policies): the tenant's admission policies as
// Kyverno Policy objects (kyverno.io/v1) in its namespace: required labels, no privileged
// containers, images only from allowed registries, CPU/memory requests and limits required; plus
// two labels on step 7's Namespace (patch mode) naming the compliance profile and enforcement.
//
// Objects come from two templates in the template directory (config/templates):
// compliance-policies.yaml (mode object) and compliance-namespace.yaml (mode patch). They are
// delivered as two batches through kube_delivery; the patch batch is named
// "<step>-namespace-labels" so the two never share a GitOps file or a field manager.
//
// Params (catalog):
//   tiers  required  {tier: {profile, action, registries}}:
//                    profile     a name for the profile ([a-z0-9-]+), put on the Namespace
//                    action      Enforce (refuse) | Audit (report only)
//                    registries  non-empty list of allowed image prefixes ("registry.matih.ai/",
//                                "*.azurecr.io/"); each becomes "<prefix>*" in the pattern
// Template values: namespace, slug, tier, managed_by, profile, action, action_label,
// registry_pattern ("a/* | b/*"), registry_list ("a/, b/").
// Settings: templates.dir, kubernetes.managed_by and the delivery settings (kube_delivery).
// observe combines both batches (ABSENT only when both are absent). Outputs: policies (the Policy
// names), set by apply and by an observe that finds both batches in sync. The kind is adoptable:
// the objects are named by the slug and the templates, and delivering them again changes nothing.
// Safe from any thread.
#pragma once

#include <matih/step.hpp>

#include "kube_delivery/kube_object.h"

namespace matih::plugins::compliance {

class CompliancePoliciesStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;

  // The policies batch and the namespace-labels batch of this call.
  static std::pair<ObjectBatch, ObjectBatch> Render(const Context& ctx);
};

}  // namespace matih::plugins::compliance
