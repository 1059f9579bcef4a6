// Fuzzes the two slug checks against each other: the runner's TenantRequestValidator::IsDnsLabel
// (`tenants add`) and step 1's CheckSlug (plugins/validation). Step 1 is the stricter one (no
// "--", reserved words); a slug step 1 accepts must pass the runner's check too, or a tenant the
// platform would provision could never be added. Also the two e-mail checks, the same way.
#include <string>

#include "engine/tenant_request.h"
#include "fuzz_support.h"
#include "validation/request_validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  static const matih::plugins::ValidationRules rules = [] {
    matih::plugins::ValidationRules r;
    r.reserved_slugs = matih::plugins::BuiltInReservedSlugs();
    r.max_slug_length = matih::runner::TenantRequestValidator::kMaxSlug;
    return r;
  }();
  const bool runner_ok = matih::runner::TenantRequestValidator::IsDnsLabel(text);
  const std::string step1 = matih::plugins::CheckSlug(text, rules);
  if (step1.empty()) matih::fuzz::Require(runner_ok, "step 1 accepts a slug the runner refuses");
  if (!step1.empty())
    matih::fuzz::Require(step1.rfind("slug", 0) == 0, "slug problem does not start with 'slug'");
  // A refusal never echoes a control character (Quote escapes them).
  for (char c : step1)
    matih::fuzz::Require(static_cast<unsigned char>(c) >= 0x20, "control character in message");

  const bool runner_email = matih::runner::TenantRequestValidator::IsEmail(text);
  const std::string step1_email = matih::plugins::CheckEmail(text);
  if (step1_email.empty()) matih::fuzz::Require(runner_email, "step 1 accepts an e-mail the runner refuses");
  for (char c : step1_email)
    matih::fuzz::Require(static_cast<unsigned char>(c) >= 0x20, "control character in message");
  return 0;
}
