// matih-compliance: phase 6 of provisioning, step 48 (apply-compliance-policies): Kyverno Policy
// objects in the tenant's namespace and compliance labels on the Namespace, per tier.
//
// Settings read (runner config, section [targets]); all belong to the Kubernetes delivery shared
// with matih-kubernetes (config/targets.example.conf, "steps 7-13"):
//   templates.dir           required: folder of compliance-policies.yaml and compliance-namespace.yaml
//   kubernetes.managed_by   value of app.kubernetes.io/managed-by (default matih-provisioner)
//   kubernetes.delivery, gitops.*, kubernetes.*: where the objects go (plugins/support/kube_delivery)
// Params: compliance_policies_step.h. No secrets, no settings of its own; it declares the shared
// ones it reads, so it can be loaded (verified, tried) without matih-kubernetes.
#include <matih/step.hpp>

#include "compliance/compliance_policies_step.h"
#include "kube_delivery/delivery_from_settings.h"

MATIH_PLUGIN("matih-compliance", "1.0.0") {
  plugin.setting("templates.dir", "folder of compliance-policies.yaml and compliance-namespace.yaml");
  plugin.setting("kubernetes.managed_by",
                 "value of app.kubernetes.io/managed-by (default matih-provisioner)");
  matih::plugins::DeclareDeliverySettings(plugin);
  plugin.add<matih::plugins::compliance::CompliancePoliciesStep>(
      "compliance.policies", "Kyverno policies and compliance labels of the tenant's namespace, per tier");
  plugin.adoptable("compliance.policies");
}
