// Fuzzes step 1's request validator (plugins/validation/request_validator.cc) on whole requests:
// the input is split at the first three newlines into id, slug, tier and the spec's JSON text.
// Every request is either accepted or refused with problems that are non-empty sentences free of
// control characters; an accepted spec parses as a JSON object that TenantSpec reads.
#include <matih/step.hpp>
#include <string>
#include <vector>

#include "common/tenant_spec.h"
#include "fuzz_support.h"
#include "validation/request_validator.h"

namespace {

std::string Next(std::string& rest) {
  auto nl = rest.find('\n');
  std::string head = rest.substr(0, nl);
  rest = nl == std::string::npos ? std::string() : rest.substr(nl + 1);
  return head;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string rest(reinterpret_cast<const char*>(data), size);
  matih::plugins::TenantRequest request;
  request.id = Next(rest);
  request.slug = Next(rest);
  request.tier = Next(rest);
  request.spec_json = rest;
  static const matih::plugins::ValidationRules rules = [] {
    matih::plugins::ValidationRules r;
    r.regions = {"eastus", "westeurope"};
    r.reserved_slugs = matih::plugins::BuiltInReservedSlugs();
    r.services = {"analytics", "ml", "bi"};
    return r;
  }();
  const std::vector<std::string> problems = matih::plugins::FindProblems(request, rules);
  for (const auto& p : problems) {
    matih::fuzz::Require(!p.empty(), "empty problem");
    for (char c : p)
      matih::fuzz::Require(static_cast<unsigned char>(c) >= 0x20, "control character in problem");
  }
  if (problems.empty()) {
    // What step 1 accepts, the later steps must be able to read.
    try {
      auto spec = matih::plugins::TenantSpec::Parse(request.spec_json);
      (void)spec.services();
      (void)spec.display_name(request.slug);
    } catch (const std::exception& e) {
      matih::fuzz::Require(false, std::string("TenantSpec refuses an accepted spec: ") + e.what());
    }
  } else {
    // Refused specs: TenantSpec may refuse them too, but only with an exception of ours.
    try {
      (void)matih::plugins::TenantSpec::Parse(request.spec_json);
    } catch (const matih::Error&) {
    }
  }
  return 0;
}
