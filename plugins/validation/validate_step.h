// tenant.validate (step 1, validate-request): checks the tenant request against the rules of
// request_validator.h and refuses it with one InvalidArgument error listing every problem.
//
// Settings read ([targets]):
//   tenant.regions          required  comma list of regions tenants may choose ("eu-west,us-east")
//   tenant.reserved_slugs   optional  comma list added to the built-in reserved words
//   tenant.service_catalog  required* path of config/service-catalog.yaml (*or param service_catalog)
// Params: {service_catalog: path} (optional, overrides the setting).
//
// Idempotence, honestly: validation changes nothing outside, so there is nothing to "create".
// apply records an output `request_sha256` (SHA-256 of id, slug, tier and spec). observe answers
// ABSENT until a validation was recorded; IN_SYNC when the recorded digest matches the current
// request and the request is still valid under the current rules; DRIFTED when the spec changed
// since (so a drift run validates the new spec before later steps use it) or the request is no
// longer valid (e.g. its region was removed from tenant.regions). remove has nothing to undo.
// Safe to call from any thread.
#pragma once

#include <matih/step.hpp>

#include "validation/request_validator.h"

namespace matih::plugins {

class ValidateRequestStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;

 private:
  static ValidationRules LoadRules(const Context& ctx);
  static TenantRequest RequestOf(const Context& ctx);
  static std::string Digest(const TenantRequest& request);
};

}  // namespace matih::plugins
