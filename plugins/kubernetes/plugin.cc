// matih-kubernetes: phase 2 of provisioning (steps 7-13), kind kubernetes.object.
//
// Settings read (runner config, section [targets]; config/targets.example.conf has examples):
//   templates.dir              required (or param templates_dir): config/templates
//   kubernetes.delivery        gitops (default) | api
//   kubernetes.managed_by      value of app.kubernetes.io/managed-by (default matih-provisioner)
//   GitOps:  gitops.repository (required), gitops.branch (main), gitops.remote (optional),
//            gitops.author_name, gitops.author_email
//   API:     kubernetes.api_url + kubernetes.token_file | kubernetes.client_cert_file +
//            kubernetes.client_key_file, kubernetes.ca_file; or kubernetes.kubeconfig (+
//            kubernetes.context); or the in-cluster service account; kubernetes.field_manager
//            (matih-provisioner), kubernetes.force_conflicts (false), kubernetes.timeout_ms
//            (30000), kubernetes.allow_http (false; tests only)
// Params and template values: object_step.h.
#include <matih/step.hpp>

#include "kube_delivery/delivery_from_settings.h"
#include "kubernetes/object_step.h"

MATIH_PLUGIN("matih-kubernetes", "1.0.0") {
  plugin.setting("templates.dir", "directory of the Kubernetes object templates (or param templates_dir)");
  plugin.setting("kubernetes.managed_by",
                 "value of the app.kubernetes.io/managed-by label (matih-provisioner)");
  matih::plugins::DeclareDeliverySettings(plugin);
  plugin.add<matih::plugins::KubernetesObjectStep>(
      "kubernetes.object", "Kubernetes objects from a template, via GitOps (git) or server-side apply");
  plugin.adoptable("kubernetes.object");
}
