// matih-identity: the tenant's identities at the identity provider (OpenID Connect: Entra ID or
// Keycloak in production, npm oidc-provider in the local stack) and their Kubernetes bindings.
//   identity.managed            step 18 create-managed-identity     (managed_identity_step.h)
//   identity.federation         step 19 federate-workload-identity  (federation_step.h)
//   identity.access             step 20 grant-identity-access       (access_step.h)
//   identity.sso_client         step 46 register-identity-provider  (sso_client_step.h)
//   identity.service_principal  step 49 validate-service-principal  (service_principal_step.h)
//
// Settings read (runner config, section [targets]; config/targets.example.conf has examples):
//   identity.issuer_url                 required: the provider's issuer (discovery at
//                                       <issuer>/.well-known/openid-configuration); https://, or
//                                       http:// on loopback only
//   identity.initial_access_token       secret, steps 18 and 46: the bearer token the provider
//                                       demands for Dynamic Client Registration
//   identity.ca_file                    optional: CA bundle for the provider's TLS certificate
//   identity.timeout_ms                 optional: per HTTP request (default 10000)
//   identity.parent_zone                step 46: the platform's parent DNS zone (hosts are
//                                       <service>.<slug>.<parent zone>)
//   identity.cluster_issuer_url         step 19: the cluster's service account token issuer
//                                       (default https://kubernetes.default.svc.cluster.local)
//   identity.azure_subscription_id      step 20: subscription GUID of the RoleAssignments' role
//                                       definitions
//   identity.service_principal_id       step 49: client id of the dedicated-infrastructure
//                                       service principal
//   identity.service_principal_secret   secret, step 49: its client secret
// Steps 19 and 20 deliver Kubernetes objects through plugins/support/kube_delivery, which reads
// kubernetes.delivery and gitops.* / kubernetes.* (declared by matih-kubernetes).
// Secrets (per tenant, this plugin's namespace): managed-identity/{registration,client_secret},
// sso-client/{registration,client_secret}; the client secrets are shared with other plugins.
#include <matih/step.hpp>

#include "identity/access_step.h"
#include "identity/federation_step.h"
#include "identity/managed_identity_step.h"
#include "identity/pooled_http.h"
#include "identity/service_principal_step.h"
#include "identity/sso_client_step.h"

MATIH_PLUGIN("matih-identity", "1.0.0") {
  using namespace matih::plugins::identity;
  plugin.setting("identity.issuer_url", "issuer URL of the OpenID Connect identity provider",
                 MATIH_SETTING_REQUIRED);
  plugin.setting("identity.initial_access_token",
                 "initial access token for dynamic client registration (RFC 7591)", MATIH_SETTING_SECRET);
  plugin.setting("identity.ca_file", "CA bundle (PEM) for the identity provider's TLS certificate");
  plugin.setting("identity.timeout_ms",
                 "timeout of one HTTP request to the identity provider (default 10000)");
  plugin.setting("identity.parent_zone", "parent DNS zone of the tenants' hosts (step 46 redirect URIs)");
  plugin.setting("identity.cluster_issuer_url", "service account token issuer of the cluster (step 19)");
  plugin.setting("identity.azure_subscription_id", "Azure subscription GUID of role definitions (step 20)");
  plugin.setting("identity.service_principal_id",
                 "client id of the dedicated-infrastructure service principal");
  plugin.setting("identity.service_principal_secret", "client secret of that service principal",
                 MATIH_SETTING_SECRET);
  plugin.share_secret("managed-identity/client_secret");
  plugin.share_secret("sso-client/client_secret");

  // One connection pool for every step of this plugin in this process.
  auto http = std::make_shared<PooledHttp>();
  plugin.add<ManagedIdentityStep>(
      "identity.managed", "Confidential client (client_credentials) for the tenant's workloads", http);
  plugin.add<FederationStep>(
      "identity.federation",
      "Workload identity federation: ServiceAccount annotation + FederatedIdentityCredential");
  plugin.add<AccessStep>("identity.access",
                         "Grants the managed identity the tenant's containers and vault only", http);
  plugin.add<SsoClientStep>("identity.sso_client",
                            "Tenant single sign-on client by dynamic registration (RFC 7591/7592)", http);
  plugin.add<ServicePrincipalStep>(
      "identity.service_principal",
      "Client-credentials check of the dedicated-infrastructure service principal", http);
}
