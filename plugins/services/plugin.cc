// matih-services: phase 5 of provisioning, the tenant's services.
//   services.helm_release  steps 26-38: one Flux HelmRelease (+ HelmRepository) per service
//   services.endpoints     step 39 register-service-endpoints: control_plane.service_endpoints
//
// Settings read (runner config, section [targets]; config/targets.example.conf has examples):
//   services.values_schema_dir  steps 26-38, required: folder of <service>.values.schema.json
//                               (config/services)
//   services.parent_zone        step 39 required, steps 26-38 optional: the DNS zone the tenants'
//                               zones live under; URLs are https://<service>.<slug>.<zone>
//   controlplane.database_url   step 39, required: libpq URL of the control-plane database (as
//                               matih-control-plane reads it)
//   kubernetes.managed_by       steps 26-38: app.kubernetes.io/managed-by (matih-provisioner)
//   kubernetes.delivery, gitops.*, kubernetes.* (API): the delivery (kube_delivery), as
//                               matih-kubernetes reads them, so a tenant's objects land together
// Params: release_params.h (26-38); none (39).
#include <matih/step.hpp>

#include "kube_delivery/delivery_from_settings.h"
#include "services/endpoints_step.h"
#include "services/helm_release_step.h"

MATIH_PLUGIN("matih-services", "1.0.0") {
  plugin.setting("services.values_schema_dir",
                 "folder of <service>.values.schema.json, the schemas the release values must satisfy",
                 MATIH_SETTING_REQUIRED);
  plugin.setting("services.parent_zone",
                 "DNS zone under which each tenant has <slug>.<zone>; service URLs are "
                 "https://<service>.<slug>.<zone>",
                 MATIH_SETTING_REQUIRED);
  plugin.setting("controlplane.database_url", "step 39: libpq URL of the control-plane database",
                 MATIH_SETTING_REQUIRED | MATIH_SETTING_SECRET);
  plugin.setting("kubernetes.managed_by",
                 "value of the app.kubernetes.io/managed-by label (matih-provisioner)");
  matih::plugins::DeclareDeliverySettings(plugin);
  plugin.add<matih::plugins::services::HelmReleaseStep>(
      "services.helm_release",
      "A service as a Flux HelmRelease and its HelmRepository, in the tenant's namespace");
  plugin.adoptable("services.helm_release");
  plugin.add<matih::plugins::services::EndpointsStep>(
      "services.endpoints", "The tenant's deployed service URLs in control_plane.service_endpoints");
}
