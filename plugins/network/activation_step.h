// network.activation (step 56, activate-tenant): the last gate before the tenant becomes ACTIVE.
// It changes nothing on any server; it checks, for real, that the tenant can be reached:
//   dns       each name of param `names` (default @, api, bi and a name under the wildcard) of
//             <slug>.<parent_zone> resolves at network.dns_server to network.ingress_address;
//   https     https://<probe_host>.<zone>:<port>/healthz, connected to the address DNS answered,
//             presents a certificate that verifies against network.ca_cert_file (the system CAs
//             when unset) for that host name, and answers 200 naming the tenant;
//   endpoint  each service of the tenant's spec has its endpoint registered: output `endpoints`
//             of step register-service-endpoints (a JSON object service -> URL) or else an output
//             named in param endpoint_keys (endpoint, url) of the service's own step (26-38).
// A failed or impossible check is a TransientError naming the check and what is missing; apply
// never reports success for a check it could not make. On success the outputs record the checks
// and the first activation time (kept across re-applies).
//
// Observe: ABSENT before the first successful apply, IN_SYNC while every check passes, DRIFTED
// naming the first failing check afterwards. Remove has nothing to undo (it clears nothing).
// Params: parent_zone (required), names, probe_host (api), endpoint_keys, endpoints_step
// (register-service-endpoints). Settings: network.dns_server, network.ingress_address,
// network.ca_cert_file, network.https_port (default network.nginx_https_port, else 443).
// Stateless; safe from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::network {

class ActivationStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::network
