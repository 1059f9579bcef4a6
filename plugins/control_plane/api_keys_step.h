// controlplane.api_keys (step 6, issue-api-keys): the tenant's API keys, one per name in params.
//
// A key is `mtk_` + 32 base62 + a 6-character checksum (common/secure_token.h), so leaked keys can
// be found by scanners. The plaintext goes once to the secret store as `controlplane/api-key/<name>`
// and nowhere else (not to logs, outputs or messages); control_plane.api_keys keeps only the keyed
// hash (HMAC-SHA256 under controlplane.hash_key_file) and a short prefix for recognition.
// observe verifies, in constant time, that each stored hash matches the key in the secret store
// and that the key is well formed; a missing row, a mismatch or a stale key name is DRIFTED and
// apply re-issues (rotates) exactly those keys. remove revokes (deletes) all the tenant's keys.
// Params: {keys: [name, ...]} (default ["default"]). Settings: controlplane.database_url,
// controlplane.hash_key_file. Output: key_names. Safe to call from any thread.
#pragma once

#include <matih/step.hpp>
#include <string>
#include <vector>

namespace matih::plugins {

inline constexpr const char* kApiKeySecretPrefix = "controlplane/api-key/";

class ApiKeysStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;

 private:
  static std::vector<std::string> KeyNames(std::string_view params_json);
};

}  // namespace matih::plugins
