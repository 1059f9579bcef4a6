// IdentityProvider: the OAuth 2.0 / OpenID Connect protocol as the identity steps speak it to the
// tenant identity provider (Entra ID or Keycloak in production, npm oidc-provider here):
// discovery (/.well-known/openid-configuration), Dynamic Client Registration (RFC 7591), its
// management (RFC 7592: read, update, delete with the client's registration access token) and
// the client_credentials grant at the token endpoint (RFC 6749 4.4, with an RFC 8707 resource
// indicator when asked).
//
// Errors: an unreachable or failing (5xx, 429) provider is TransientError; a refused initial
// access token or malformed metadata is PermanentError naming `who` (the step) and the provider;
// statuses the caller must interpret (a refused token request) are returned. Secrets (tokens,
// client secrets) never appear in messages.
//
// Cheap to create per call; the PooledHttp it borrows must outlive it. Not shared between
// threads (the PooledHttp is).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "identity/pooled_http.h"

namespace matih::plugins::identity {

// Where and how to reach the provider: from the runner settings identity.*.
struct ProviderSettings {
  std::string issuer_url;  // http:// only on loopback
  TlsOptions tls;
  std::chrono::milliseconds timeout{10000};
};

// What the token endpoint answered to a client_credentials request.
struct TokenAnswer {
  bool granted = false;
  long status = 0;
  std::string error;              // RFC 6749 5.2 code when refused, e.g. invalid_client
  std::string error_description;  // the provider's words (never contains the secret)
  std::string scope;              // when granted
};

class IdentityProvider {
 public:
  // `who` names the step in messages ("step create-managed-identity").
  IdentityProvider(PooledHttp& http, ProviderSettings settings, std::string who)
      : http_(http), settings_(std::move(settings)), who_(std::move(who)) {}

  // Registers a client (RFC 7591) with `initial_access_token`; returns the provider's answer
  // (client_id, client_secret, registration_client_uri, registration_access_token, metadata).
  nlohmann::json Register(const nlohmann::json& metadata, const std::string& initial_access_token);
  // The client's current metadata (RFC 7592 read), or nullopt when the provider does not know
  // the client or the token any more (401/403/404: RFC 7592 answers 401 for a deleted client).
  std::optional<nlohmann::json> Read(const std::string& client_uri, const std::string& access_token);
  // Replaces the whole client record (RFC 7592 update) with `metadata`, which must carry
  // client_id; returns the answer, whose registration_access_token replaces the old one.
  nlohmann::json Update(const std::string& client_uri, const std::string& access_token,
                        const nlohmann::json& metadata);
  // Deletes the client (RFC 7592 delete); true when deleted, false when it was already gone.
  bool Delete(const std::string& client_uri, const std::string& access_token);
  // client_credentials with HTTP Basic client authentication (client_secret_basic), or with the
  // credentials in the form (client_secret_post); `resource` adds an RFC 8707 indicator.
  TokenAnswer ClientCredentials(const std::string& client_id, const std::string& client_secret,
                                const std::string& resource = "", bool post_credentials = false);

  const std::string& issuer() const { return settings_.issuer_url; }
  // The endpoints from discovery (fetched once per provider object).
  std::string registration_endpoint();
  std::string token_endpoint();

 private:
  HttpResponse Send(HttpRequest request);
  const nlohmann::json& Discovery();
  [[noreturn]] void Fail(const std::string& what, const HttpResponse& response) const;

  PooledHttp& http_;
  ProviderSettings settings_;
  std::string who_;
  std::optional<nlohmann::json> discovery_;
};

// "a_b-c" -> Basic auth header value per RFC 6749 2.3.1 (form-urlencoded, then base64).
std::string BasicAuthorization(const std::string& client_id, const std::string& client_secret);
// application/x-www-form-urlencoded encoding of one value.
std::string FormEncode(const std::string& text);

}  // namespace matih::plugins::identity
