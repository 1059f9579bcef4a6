#include "validation/validate_step.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "common/settings.h"
#include "validation/service_catalog.h"

namespace matih::plugins {
namespace {

constexpr const char* kDigestOutput = "request_sha256";

std::string JoinProblems(const std::vector<std::string>& problems) {
  std::string out;
  for (size_t i = 0; i < problems.size(); ++i) out += (i ? "; " : "") + problems[i];
  return out;
}

std::string Rejection(const std::vector<std::string>& problems) {
  return "tenant request rejected (" + std::to_string(problems.size()) +
         (problems.size() == 1 ? " problem): " : " problems): ") + JoinProblems(problems);
}

}  // namespace

void ValidateRequestStep::validate_params(std::string_view params_json) {
  auto params =
      nlohmann::json::parse(params_json.empty() ? std::string_view("{}") : params_json, nullptr, false);
  if (!params.is_object()) throw InvalidArgument("params must be an object");
  for (const auto& [key, value] : params.items()) {
    if (key != "service_catalog")
      throw InvalidArgument("unknown param '" + key + "' (known: service_catalog)");
    if (!value.is_string()) throw InvalidArgument("param service_catalog must be a path");
  }
}

ValidationRules ValidateRequestStep::LoadRules(const Context& ctx) {
  ValidationRules rules;
  rules.regions = SplitSet(ctx.required_setting("tenant.regions"));
  if (rules.regions.empty()) throw PermanentError("setting targets.tenant.regions lists no region");
  rules.reserved_slugs = BuiltInReservedSlugs();
  for (const auto& s : SplitList(SettingOr(ctx, "tenant.reserved_slugs", ""))) rules.reserved_slugs.insert(s);
  auto params = nlohmann::json::parse(ctx.params_json(), nullptr, false);
  std::string catalog_path;
  if (params.is_object() && params.contains("service_catalog") && params["service_catalog"].is_string())
    catalog_path = params["service_catalog"].get<std::string>();
  else
    catalog_path = ctx.required_setting("tenant.service_catalog");
  rules.services = ServiceCatalog::Load(catalog_path).names();
  return rules;
}

TenantRequest ValidateRequestStep::RequestOf(const Context& ctx) {
  return TenantRequest{ctx.tenant_id(), ctx.slug(), ctx.tier(), ctx.spec_json()};
}

std::string ValidateRequestStep::Digest(const TenantRequest& request) {
  if (sodium_init() < 0) throw Error(MATIH_STATUS_INTERNAL, "libsodium could not be initialised");
  // Length-prefixed fields, so no two different requests share an encoding.
  std::string encoded;
  for (const std::string* field : {&request.id, &request.slug, &request.tier, &request.spec_json})
    encoded += std::to_string(field->size()) + ":" + *field + ";";
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(encoded.data()), encoded.size());
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

Observation ValidateRequestStep::observe(Context& ctx) {
  auto recorded = ctx.output(ctx.step_name(), kDigestOutput);
  const TenantRequest request = RequestOf(ctx);
  auto problems = FindProblems(request, LoadRules(ctx));
  // Never validated: a request that apply would refuse is refused here already, so the runner's
  // commands can ask this step before they write a tenant (one validator for both).
  if (!recorded) {
    if (!problems.empty()) throw InvalidArgument(Rejection(problems));
    return Observation::Absent();
  }
  if (!problems.empty()) return Observation::Drifted("request no longer valid: " + JoinProblems(problems));
  if (*recorded != Digest(request)) return Observation::Drifted("spec changed since it was validated");
  return Observation::InSync();
}

void ValidateRequestStep::apply(Context& ctx) {
  const TenantRequest request = RequestOf(ctx);
  auto problems = FindProblems(request, LoadRules(ctx));
  if (!problems.empty()) throw InvalidArgument(Rejection(problems));
  ctx.set_output(kDigestOutput, Digest(request));
}

void ValidateRequestStep::remove(Context& /*ctx*/) {
  // Validation created nothing outside; its recorded output goes away with the step record.
}

}  // namespace matih::plugins
