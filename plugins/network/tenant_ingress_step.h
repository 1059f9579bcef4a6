// network.tenant_ingress (step 42, create-tenant-ingress): the tenant's TLS ingress. In the
// cluster: a cert-manager Certificate for "*.<zone>" and "<zone>" from a DNS-01 issuer and the
// Ingress of the tenant's hosts on IngressClass nginx-<slug> (template tenant-ingress.yaml),
// delivered through kube_delivery. Locally, when settings network.nginx_prefix and
// network.ca_cert_file are set: a certificate for the same names issued from the stack's CA
// (<certs_dir>/<slug>/tls.crt, key tls.key mode 0600, never logged), re-issued when it is invalid
// or fewer than renew_days remain, and the TLS listener in the tenant's server
// (tenants/<slug>.d/tls.conf; the server itself is step 40's).
//
// The local result is checked as a client would: https://<probe_host>.<zone>/healthz with the name
// resolved by the DNS server (network.dns_server, the zone of step 41) and the certificate
// verified against the CA (chain and host name). Observe reports a certificate near expiry, a
// changed file, or nginx serving another certificate as DRIFTED.
//
// Params (catalog): parent_zone (required), issuer (letsencrypt-dns01), issuer_kind
// (ClusterIssuer), validity_days (90), renew_days (30, below validity_days), probe_host (api),
// hosts ([{name, service, port}], default api -> api-gateway:80, bi -> bi-service:80).
// Settings: templates.dir, kube_delivery's, network.nginx_*, network.ca_cert_file,
// network.ca_key_file, network.certs_dir, network.dns_server.
// Outputs: hosts, tls_secret, url, certificate_not_after, certificate_serial (local), set by apply
// and by an observe that finds everything in sync. The kind is adoptable: objects, files and the
// certificate are named by the slug and the zone, a certificate on disk that is valid is kept (not
// issued again), and apply again changes nothing. Stateless; safe from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::network {

class TenantIngressStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::network
