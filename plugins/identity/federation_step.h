// FederationStep (kind identity.federation, step 19 federate-workload-identity): binds the
// managed identity of step 18 to the tenant's ServiceAccount (step 11) the Azure Workload
// Identity way, in one delivery through plugins/support/kube_delivery (GitOps or the API):
//   - patch mode on step 11's ServiceAccount: annotation azure.workload.identity/client-id:
//     <client_id> and label azure.workload.identity/use: "true" (removing the step removes only
//     these fields);
//   - object mode: an Azure Service Operator v2 FederatedIdentityCredential
//     (managedidentity.azure.com/v1api20230131, the ASO version whose schema has issuer, subject
//     and audiences) trusting tokens of the cluster's issuer for subject
//     system:serviceaccount:tenant-<slug>:<service account>, owned by the tenant's
//     UserAssignedIdentity.
// Observe compares both delivered files with what they should be. The client_id comes from step
// 18's registration in the secret store (the truth, even before outputs are recorded).
// Params: service_account (tenant-workloads), identity_name (tenant-workloads), audiences
// ([api://AzureADTokenExchange]). Setting identity.cluster_issuer_url (the cluster's service
// account issuer). Threads: stateless; safe from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::identity {

class FederationStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::identity
