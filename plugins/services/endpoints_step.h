// services.endpoints (step 39, register-service-endpoints): the tenant's service URLs in the
// control plane, table control_plane.service_endpoints (service_endpoints_table.h), one row per
// deployed service: https://<service>.<slug>.<services.parent_zone>.
//
// A service is deployed when the tenant's spec requests it and its step (named like the service,
// steps 26-38) recorded output deployed=true, so the rows follow steps 26-38: a service whose step
// is disabled, skipped or not yet applied has no row, and one dropped from the spec loses its row
// on the next pass. observe compares the rows with that set (a missing, extra or hand-changed row
// is DRIFTED; no row at all is ABSENT); apply inserts, updates and deletes only what differs, so a
// second apply writes nothing; remove deletes the tenant's rows. The tenant's control-plane record
// (step 3) must exist before a row is written.
//
// Params: none. Settings read ([targets]): services.parent_zone (required), controlplane.database_url
// (required; the control-plane database, see plugins/common/control_plane_schema.h).
// Outputs: services (comma list of registered services), count. Safe to call from any thread; calls
// share one cached connection per database (session_cache.h).
#pragma once

#include <matih/step.hpp>

#include "services/session_cache.h"

namespace matih::plugins::services {

class EndpointsStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;

 private:
  SessionCache sessions_;  // the control-plane connection, reused across calls
};

}  // namespace matih::plugins::services
