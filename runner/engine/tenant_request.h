// TenantRequest: the checks `tenants add` makes before anything is written.
//
// The same rules as step 1 (validate-request) where the runner can judge them alone: slug,
// tier, region, admin e-mail, spec shape and size. Every problem is reported at once.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace matih::runner {

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

 private:
  std::vector<std::string> tiers_;
  std::vector<std::string> regions_;
};

}  // namespace matih::runner
