// matih-network: phase 5 of provisioning, the tenant's network: steps 40
// (network.ingress_controller), 41 (network.dns_zone) and 42 (network.tenant_ingress); and the
// connectivity gate of step 56 (network.activation).
//
// Settings read (runner config, section [targets]; config/targets.example.conf has examples):
//   network.dns_backend          powerdns (default) | azure
//   network.powerdns_api_url     PowerDNS HTTP API, e.g. http://127.0.0.1:8081 (required for powerdns)
//   network.powerdns_api_key     its API key (secret)
//   network.powerdns_server_id   the API's server id (default localhost)
//   network.dns_server           ADDRESS[:PORT] of the authoritative DNS server the steps query
//                                to check what they wrote (required)
//   network.ingress_address      the IPv4/IPv6 address the tenants' names point at (required)
//   network.dns_timeout_ms       how long apply waits for the DNS server to serve its records (3000)
//   network.http_timeout_ms      timeout of one API request (10000)
//   network.dns_verify           check the zone by DNS queries after apply (default true)
// Azure DNS (network.dns_backend = azure; azure_dns_zone.h):
//   network.azure_dns_url        default https://management.azure.com
//   network.azure_subscription_id, network.azure_resource_group (required),
//   network.azure_parent_resource_group (default the same), network.azure_access_token (secret)
// The local ingress (steps 40 and 42; all unset in production, where the cluster's ingress-nginx
// and cert-manager serve the objects these steps deliver through kube_delivery):
//   network.nginx_prefix         the stack's nginx prefix (holds nginx.conf, tenants/); unset: no local
//   ingress network.nginx_bin            the nginx binary (default nginx) network.nginx_listen_address
//   address of the tenants' listeners (default 127.0.0.1) network.nginx_http_port      HTTP port of the
//   tenants' servers (required with a prefix) network.nginx_https_port     HTTPS port of the tenants' servers
//   (required with a prefix) network.ca_cert_file         the local CA's certificate (PEM), trusted by
//   clients network.ca_key_file          the local CA's key (PEM file, mode 0600) network.certs_dir where the
//   tenants' leaf certificates and keys are written
// Step 56 also reads network.https_port (the tenants' public HTTPS port; default
// network.nginx_https_port, else 443).
// Steps 40 and 42 also read templates.dir and the settings of plugins/support/kube_delivery
// (kubernetes.delivery, gitops.*, kubernetes.*).
// Params of each kind: its header (dns_zone_step.h, ingress_controller_step.h, tenant_ingress_step.h).
#include <matih/step.hpp>

#include "network/activation_step.h"
#include "network/dns_zone_step.h"
#include "network/ingress_controller_step.h"
#include "network/tenant_ingress_step.h"

MATIH_PLUGIN("matih-network", "1.0.0") {
  plugin.setting("network.dns_backend", "DNS backend of the tenants' zones: powerdns (default) or azure");
  plugin.setting("network.powerdns_api_url", "PowerDNS HTTP API base URL (http://host:port)");
  plugin.setting("network.powerdns_api_key", "PowerDNS API key (X-API-Key)", MATIH_SETTING_SECRET);
  plugin.setting("network.powerdns_server_id", "PowerDNS server id in the API paths (default localhost)");
  plugin.setting("network.dns_server",
                 "ADDRESS[:PORT] of the authoritative DNS server queried to check the zones");
  plugin.setting("network.ingress_address", "IP address the tenants' DNS names point at (their ingress)");
  plugin.setting("network.dns_timeout_ms",
                 "how long apply waits for the DNS server to serve new records (3000)");
  plugin.setting("network.http_timeout_ms", "timeout of one HTTP API request in milliseconds (10000)");
  plugin.setting("network.dns_verify", "check each zone with DNS queries after apply (default true)");
  plugin.setting("network.azure_dns_url",
                 "Azure Resource Manager base URL (default https://management.azure.com)");
  plugin.setting("network.azure_subscription_id", "Azure subscription of the tenants' DNS zones");
  plugin.setting("network.azure_resource_group", "Azure resource group of the tenants' DNS zones");
  plugin.setting("network.azure_parent_resource_group",
                 "Azure resource group of the parent zone (default the same)");
  plugin.setting("network.azure_access_token", "bearer token for Azure Resource Manager",
                 MATIH_SETTING_SECRET);
  plugin.setting("network.nginx_prefix",
                 "prefix folder of the local nginx (nginx.conf, tenants/); unset: no local ingress");
  plugin.setting("network.nginx_bin", "nginx binary of the local ingress (default nginx)");
  plugin.setting("network.nginx_listen_address",
                 "address of the local tenants' listeners (default 127.0.0.1)");
  plugin.setting("network.nginx_http_port", "HTTP port of the local tenants' servers");
  plugin.setting("network.nginx_https_port", "HTTPS port of the local tenants' servers");
  plugin.setting("network.ca_cert_file",
                 "certificate (PEM) of the local CA that issues the tenants' certificates");
  plugin.setting("network.ca_key_file", "key file (PEM, mode 0600) of the local CA");
  plugin.setting("network.certs_dir", "folder of the tenants' local certificates and keys");
  plugin.setting("network.https_port",
                 "HTTPS port step 56 checks (default network.nginx_https_port, else 443)");
  plugin.add<matih::plugins::network::IngressControllerStep>(
      "network.ingress_controller",
      "The tenant's ingress-nginx (Flux HelmRelease, IngressClass nginx-<slug>); locally its nginx server");
  plugin.add<matih::plugins::network::DnsZoneStep>(
      "network.dns_zone",
      "The tenant's DNS zone <slug>.<parent> with SOA, NS, host records and the parent's delegation");
  plugin.add<matih::plugins::network::TenantIngressStep>(
      "network.tenant_ingress",
      "The tenant's TLS Ingress and cert-manager Certificate; locally a certificate from the stack's CA in "
      "its nginx");
  plugin.adoptable("network.tenant_ingress");
  plugin.add<matih::plugins::network::ActivationStep>(
      "network.activation",
      "Checks for real that the tenant's names resolve, its HTTPS ingress verifies and its services are "
      "registered");
}
