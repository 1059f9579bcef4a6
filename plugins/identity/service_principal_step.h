// ServicePrincipalStep (kind identity.service_principal, step 49 validate-service-principal,
// dedicated tiers): proves, before Terraform runs, that the service principal the dedicated
// infrastructure is built with can authenticate: an OAuth 2.0 client_credentials request at the
// identity provider's token endpoint with settings identity.service_principal_id and
// identity.service_principal_secret.
//
// Granted: IN_SYNC (observe) / done (apply); output service_principal_id. Refused (invalid_client
// and the like): PermanentError saying the credentials were refused and which settings hold them;
// provider unreachable: TransientError. Nothing to undo: remove changes nothing. No params.
// Threads: holds only the plugin's PooledHttp; safe from any thread.
#pragma once

#include <matih/step.hpp>
#include <memory>

#include "identity/pooled_http.h"

namespace matih::plugins::identity {

class ServicePrincipalStep final : public Step {
 public:
  explicit ServicePrincipalStep(std::shared_ptr<PooledHttp> http) : http_(std::move(http)) {}
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;

 private:
  void Validate(Context& ctx);
  std::shared_ptr<PooledHttp> http_;
};

}  // namespace matih::plugins::identity
