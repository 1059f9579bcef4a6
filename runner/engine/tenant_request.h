// TenantRequest: the checks a command makes before it writes a new or changed tenant.
//
// Two layers, both before anything is written. TenantRequestValidator assembles the request as it
// will be stored (the spec file's object with admin_email and region filled in) and refuses what
// the runner can judge alone (slug, tier, region, e-mail, spec shape and size). CheckWithStep1
// then asks the catalog's step 1 (validate-request) itself, through its kind's observe on the
// would-be tenant: the rules of step 1 are the one validator, so `tenants add`, `upgrade` and a
// run can never disagree about what is valid. Every problem is reported at once.
#pragma once

#include <string>
#include <vector>

#include "common/message_text.h"
#include "common/status.h"
#include "engine/engine_options.h"
#include "engine/step_catalog.h"
#include "model/step_kind.h"

namespace matih::runner {

// The tenant id used for a request that has none yet (`tenants add`): a valid UUID no tenant has.
inline constexpr const char* kUnsavedTenantId = "00000000-0000-4000-8000-000000000000";

// Runs step 1's observe on `tenant` (dry run, no secret store, no outputs) and turns a refusal
// into InvalidArgument naming the step. OK when step 1 does not apply to the tenant's tier or is
// disabled; an unreachable target of step 1 is Unavailable. Thread-compatible.
Status CheckWithStep1(const StepCatalog& catalog, const StepKindRegistry& kinds, const EngineOptions& options,
                      const TenantView& tenant);

struct TenantRequest {
  std::string slug;
  std::string tier;
  std::string region;
  std::string admin_email;
  std::string spec_json = "{}";  // the --spec file's text, if any
};

class TenantRequestValidator {
 public:
  TenantRequestValidator(std::vector<std::string> tiers, std::vector<std::string> regions)
      : tiers_(std::move(tiers)), regions_(std::move(regions)) {}

  // OK, or InvalidArgument listing every problem. On success `spec_out` is the spec as stored:
  // the file's object with admin_email and region filled in.
  Status Check(const TenantRequest& request, std::string& spec_out) const;

  static bool IsDnsLabel(const std::string& slug);
  static bool IsEmail(const std::string& email);
  static constexpr size_t kMaxSlug = 40;
  static constexpr size_t kMaxSpecBytes = 64 * 1024;
  static constexpr size_t kMaxSpecDepth = 16;

 private:
  std::vector<std::string> tiers_;
  std::vector<std::string> regions_;
};

}  // namespace matih::runner
