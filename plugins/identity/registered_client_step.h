// RegisteredClientStep: the shape shared by the steps that own one client at the identity
// provider (18 create-managed-identity, 46 register-identity-provider): the subclass says what the
// client's metadata should be; this class observes it with an RFC 7592 read, registers it (RFC
// 7591) when absent, under a unique name (see ClientRegistration: a lost answer is adopted, not
// registered twice), replaces the whole record when a field it owns drifted (keeping fields other
// steps own, such as step 20's grants), stores the rotated registration access token, and on
// remove deletes the client and its secrets.
//
// One object per kind, shared by every call, possibly from several threads: it holds only the
// plugin's PooledHttp (thread-safe); everything else lives on the call's stack.
#pragma once

#include <matih/step.hpp>
#include <memory>
#include <nlohmann/json.hpp>

#include "identity/client_registration.h"
#include "identity/pooled_http.h"

namespace matih::plugins::identity {

class RegisteredClientStep : public Step {
 public:
  RegisteredClientStep(std::shared_ptr<PooledHttp> http, std::string secret_name)
      : http_(std::move(http)), secret_name_(std::move(secret_name)) {}

  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;

 protected:
  // The metadata this step owns (every key is compared and written); throws InvalidArgument on
  // bad params.
  virtual nlohmann::json Desired(const Context& ctx) const = 0;
  // After apply converged: e.g. prove the credentials with a real token request.
  virtual void Verify(Context& /*ctx*/, IdentityProvider& /*idp*/, const std::string& /*client_id*/,
                      const std::string& /*client_secret*/) {}
  // Outputs recorded after apply (client_id is always recorded).
  virtual void RecordOutputs(Context& /*ctx*/, const nlohmann::json& /*record*/) {}

  PooledHttp& http() { return *http_; }

 private:
  // Desired() with the client's unique name (kRegistrationKeyField) added.
  nlohmann::json DesiredWithKey(const Context& ctx) const;

  std::shared_ptr<PooledHttp> http_;
  std::string secret_name_;
};

}  // namespace matih::plugins::identity
