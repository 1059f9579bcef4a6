// TokenStep (kind my.token): keeps one generated API token per tenant in the runner's secret
// store, under this plugin's namespace. Replace the body with your own target's logic; keep the
// contract: observe changes nothing, apply converges and writes nothing when converged, remove
// undoes and is fine when there is nothing to undo.
//
// Threads: one object serves every call of the kind, possibly concurrently; it holds no state.
#pragma once

#include <matih/step.hpp>
#include <string>
#include <string_view>

namespace my_plugin {

class TokenStep final : public matih::Step {
 public:
  matih::Observation observe(matih::Context& ctx) override;
  void apply(matih::Context& ctx) override;
  void remove(matih::Context& ctx) override;
  // Params: {"name": "<secret name>"} (optional; default "api-token").
  void validate_params(std::string_view params_json) override;

 private:
  static std::string SecretName(const matih::Context& ctx);
  static size_t TokenBytes(const matih::Context& ctx);
};

}  // namespace my_plugin
