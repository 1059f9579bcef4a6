// AccessStep (kind identity.access, step 20 grant-identity-access): grants the managed identity
// of step 18 access to the tenant's storage containers and key vault, and nothing else.
//   - At the identity provider: the grants are the client metadata field matih_access, a list of
//     RFC 8707 resource indicators (urn:matih:tenant:<slug>:containers, ...:vault) written with
//     an RFC 7592 update of the whole record (step 18's fields kept; the rotated registration
//     access token stored). The provider issues a token for a resource only when it is listed,
//     so a request for another tenant's resource is refused (invalid_target). Apply ends with a
//     real token request per granted resource.
//   - For production, Azure Service Operator v2 RoleAssignment objects
//     (authorization.azure.com/v1api20220401) through plugins/support/kube_delivery: Storage Blob
//     Data Contributor on the tenant's StorageAccount, Key Vault Secrets User on its Vault, for
//     the principal id the UserAssignedIdentity exports to a ConfigMap.
// Params: storage_account (tenant-storage), vault (tenant-vault), identity_configmap
// (tenant-workloads-identity), storage_role / vault_role (role definition GUIDs). Setting
// identity.azure_subscription_id. Remove takes the grants off the client and deletes the objects.
// Threads: holds only the plugin's PooledHttp; safe from any thread.
#pragma once

#include <matih/step.hpp>
#include <memory>
#include <nlohmann/json.hpp>

#include "identity/pooled_http.h"

namespace matih::plugins::identity {

class AccessStep final : public Step {
 public:
  explicit AccessStep(std::shared_ptr<PooledHttp> http) : http_(std::move(http)) {}
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;

 private:
  std::shared_ptr<PooledHttp> http_;
};

// The resource indicators a tenant's identity is granted: containers, then vault.
nlohmann::json GrantedResources(const std::string& slug);

}  // namespace matih::plugins::identity
