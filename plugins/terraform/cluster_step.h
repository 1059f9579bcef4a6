// terraform.cluster (step 54, register-dedicated-cluster): registers the dedicated cluster that
// step 52's outputs describe (cluster_name, cluster_region, cluster_endpoint, node_count; the
// kubeconfig in the secret store) in control_plane.dedicated_clusters, copies its credentials to
// the shared secret cluster/kubeconfig (for the plugins that deploy onto it), records where the
// tenant lives as outputs (placement, cluster_name, cluster_endpoint) and the tenant's own
// targets as outputs target.<setting-key> (tenant_targets.h), and releases the Terraform state
// lock of this claim: phase 7 is done.
// Observe: Absent without a row; Drifted when the row or the credentials differ from the outputs
// or targets, or the lock of this claim is still held. Remove: the row, the shared credentials
// and the targets' secrets.
// Safe to call from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::terraform {

class RegisterClusterStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

inline constexpr const char* kClusterCredentialsSecret = "cluster/kubeconfig";

}  // namespace matih::plugins::terraform
