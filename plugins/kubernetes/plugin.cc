// matih-kubernetes: phase 2 of provisioning (steps 7-13). See object_step.h for the params and
// settings; config/targets.example.conf lists every setting.
#include <matih/step.hpp>

#include "kubernetes/object_step.h"

MATIH_PLUGIN("matih-kubernetes", "1.0.0") {
  plugin.add<matih::plugins::KubernetesObjectStep>(
      "kubernetes.object", "Kubernetes objects from a template, via GitOps (git) or server-side apply");
}
