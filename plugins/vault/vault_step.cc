#include "vault/vault_step.h"

#include <nlohmann/json.hpp>

#include "vault/vault_backend.h"

namespace matih::plugins::vault {
namespace {

constexpr const char* kMarker = "vault";

// Not a secret: it names the tenant, so a marker copied from another tenant is drift.
std::string MarkerValue(const Context& ctx) { return "matih vault of tenant " + ctx.tenant_id(); }

}  // namespace

void VaultStep::validate_params(std::string_view params_json) {
  auto params =
      nlohmann::json::parse(params_json.empty() ? std::string_view("{}") : params_json, nullptr, false);
  if (!params.is_object()) throw InvalidArgument("params must be an object");
  if (!params.empty())
    throw InvalidArgument("create-key-vault takes no params (unknown: " + params.begin().key() + ")");
}

Observation VaultStep::observe(Context& ctx) {
  auto backend = BackendFromSettings(ctx);
  auto marker = backend->Get(kMarker);
  if (!marker) return Observation::Absent();
  if (*marker != MarkerValue(ctx)) return Observation::Drifted("vault marker names another tenant");
  return Observation::InSync();
}

void VaultStep::apply(Context& ctx) {
  auto backend = BackendFromSettings(ctx);
  const std::string want = MarkerValue(ctx);
  if (backend->Get(kMarker) != want) backend->Put(kMarker, want);
  ctx.set_output("backend", backend->Describe());
  ctx.set_output("remote_key", backend->RemoteKey(kMarker));
}

void VaultStep::remove(Context& ctx) { BackendFromSettings(ctx)->Delete(kMarker); }

}  // namespace matih::plugins::vault
