// network.ingress_controller (step 40, deploy-ingress-controller): the tenant's own ingress-nginx
// as a Flux HelmRepository + HelmRelease (template ingress-controller.yaml: IngressClass
// nginx-<slug>, controller scoped to namespace tenant-<slug>), delivered through kube_delivery;
// and, when setting network.nginx_prefix names the stack's nginx, the tenant's server in it
// (tenants/<slug>.conf: HTTP listener, server_name <zone> *.<zone>, /healthz answering a small
// JSON naming the tenant, and the include of tenants/<slug>.d/*.conf where step 42 adds TLS).
// Observe also asks nginx itself (GET /healthz with the tenant's host name), so a server that
// was removed and reloaded by hand is found; apply checks the same after its reload.
//
// Params (catalog): parent_zone (required), chart_version (4.11.3), chart_repository
// (https://kubernetes.github.io/ingress-nginx), template (ingress-controller.yaml).
// Settings: templates.dir, kubernetes.* / gitops.* (kube_delivery), network.nginx_* (local_nginx.h).
// Outputs: ingress_class, namespace, http_url (local). Stateless; safe from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::network {

class IngressControllerStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::network
