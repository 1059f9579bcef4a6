#include "identity/identity_provider.h"

#include <matih/step.hpp>

namespace matih::plugins::identity {
namespace {

constexpr const char* kJson = "Content-Type: application/json";
constexpr const char* kAcceptJson = "Accept: application/json";

nlohmann::json ParseObject(const std::string& body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  return json.is_object() ? json : nlohmann::json();
}

// The provider's error code and words from an RFC 6749 / 7591 error body, for messages.
std::string ErrorOf(const HttpResponse& response) {
  const auto body = ParseObject(response.body);
  std::string out = "HTTP " + std::to_string(response.status);
  if (body.is_object() && body.contains("error") && body["error"].is_string())
    out += " " + body["error"].get<std::string>();
  if (body.is_object() && body.contains("error_description") && body["error_description"].is_string())
    out += ": " + body["error_description"].get<std::string>();
  return out;
}

bool Transient(long status) { return status >= 500 || status == 429 || status == 408; }

std::string Base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace

std::string FormEncode(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string BasicAuthorization(const std::string& client_id, const std::string& client_secret) {
  return "Authorization: Basic " + Base64(FormEncode(client_id) + ":" + FormEncode(client_secret));
}

HttpResponse IdentityProvider::Send(HttpRequest request) {
  request.headers.push_back(kAcceptJson);
  HttpResponse response;
  try {
    response = http_.Send(request, settings_.tls, settings_.timeout);
  } catch (const TransientError& e) {
    throw TransientError(who_ + ": the identity provider " + settings_.issuer_url + " is unreachable (" +
                         e.what() + ")");
  } catch (const PermanentError& e) {
    throw PermanentError(who_ + ": the identity provider " + settings_.issuer_url + " cannot be used (" +
                         e.what() + ")");
  }
  if (Transient(response.status))
    throw TransientError(who_ + ": the identity provider " + settings_.issuer_url + " answered " +
                         request.method + " " + request.url + " with " + ErrorOf(response));
  return response;
}

void IdentityProvider::Fail(const std::string& what, const HttpResponse& response) const {
  throw PermanentError(who_ + ": the identity provider " + settings_.issuer_url + " refused to " + what +
                       " (" + ErrorOf(response) + ")");
}

const nlohmann::json& IdentityProvider::Discovery() {
  if (discovery_) return *discovery_;
  std::string base = settings_.issuer_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto response = Send({"GET", base + "/.well-known/openid-configuration", {}, ""});
  if (response.status != 200) Fail("publish its OpenID configuration", response);
  auto json = ParseObject(response.body);
  if (!json.is_object())
    throw PermanentError(who_ + ": " + base + "/.well-known/openid-configuration is not JSON");
  discovery_ = std::move(json);
  return *discovery_;
}

std::string IdentityProvider::registration_endpoint() {
  const auto& d = Discovery();
  if (!d.contains("registration_endpoint") || !d["registration_endpoint"].is_string())
    throw PermanentError(who_ + ": the identity provider " + settings_.issuer_url +
                         " offers no dynamic client registration (no registration_endpoint)");
  return d["registration_endpoint"];
}

std::string IdentityProvider::token_endpoint() {
  const auto& d = Discovery();
  if (!d.contains("token_endpoint") || !d["token_endpoint"].is_string())
    throw PermanentError(who_ + ": the identity provider " + settings_.issuer_url + " has no token_endpoint");
  return d["token_endpoint"];
}

nlohmann::json IdentityProvider::Register(const nlohmann::json& metadata,
                                          const std::string& initial_access_token) {
  auto response = Send({"POST",
                        registration_endpoint(),
                        {kJson, "Authorization: Bearer " + initial_access_token},
                        metadata.dump()});
  if (response.status == 401 || response.status == 403)
    Fail("register a client with the initial access token of setting identity.initial_access_token",
         response);
  if (response.status != 201 && response.status != 200) Fail("register the client", response);
  auto json = ParseObject(response.body);
  for (const char* field : {"client_id", "registration_client_uri", "registration_access_token"})
    if (!json.is_object() || !json.contains(field) || !json[field].is_string())
      throw PermanentError(who_ + ": the identity provider's registration answer has no " + field +
                           " (is client registration management, RFC 7592, enabled?)");
  return json;
}

std::optional<nlohmann::json> IdentityProvider::Read(const std::string& client_uri,
                                                     const std::string& access_token) {
  auto response = Send({"GET", client_uri, {"Authorization: Bearer " + access_token}, ""});
  if (response.status == 401 || response.status == 403 || response.status == 404) return std::nullopt;
  if (response.status != 200) Fail("read the client registration", response);
  auto json = ParseObject(response.body);
  if (!json.is_object())
    throw PermanentError(who_ + ": the client registration read from " + client_uri + " is not JSON");
  return json;
}

nlohmann::json IdentityProvider::Update(const std::string& client_uri, const std::string& access_token,
                                        const nlohmann::json& metadata) {
  auto response =
      Send({"PUT", client_uri, {kJson, "Authorization: Bearer " + access_token}, metadata.dump()});
  // The record vanished between our read and this update: the next call re-observes it.
  if (response.status == 401 || response.status == 404)
    throw TransientError(who_ +
                         ": the client registration changed at the identity provider while it was updated (" +
                         ErrorOf(response) + ")");
  if (response.status != 200) Fail("update the client registration", response);
  auto json = ParseObject(response.body);
  if (!json.is_object() || !json.contains("registration_access_token") ||
      !json["registration_access_token"].is_string())
    throw PermanentError(who_ + ": the identity provider's update answer has no registration_access_token");
  return json;
}

bool IdentityProvider::Delete(const std::string& client_uri, const std::string& access_token) {
  auto response = Send({"DELETE", client_uri, {"Authorization: Bearer " + access_token}, ""});
  if (response.status == 204 || response.status == 200) return true;
  if (response.status == 401 || response.status == 404) return false;
  Fail("delete the client registration", response);
}

TokenAnswer IdentityProvider::ClientCredentials(const std::string& client_id,
                                                const std::string& client_secret, const std::string& resource,
                                                bool post_credentials) {
  HttpRequest request{"POST", token_endpoint(), {"Content-Type: application/x-www-form-urlencoded"}, ""};
  request.body = "grant_type=client_credentials";
  if (!resource.empty()) request.body += "&resource=" + FormEncode(resource);
  if (post_credentials)
    request.body += "&client_id=" + FormEncode(client_id) + "&client_secret=" + FormEncode(client_secret);
  else
    request.headers.push_back(BasicAuthorization(client_id, client_secret));
  auto response = Send(request);
  TokenAnswer answer;
  answer.status = response.status;
  const auto body = ParseObject(response.body);
  if (response.status == 200 && body.is_object() && body.contains("access_token") &&
      body["access_token"].is_string()) {
    answer.granted = true;
    if (body.contains("scope") && body["scope"].is_string()) answer.scope = body["scope"];
    return answer;
  }
  if (body.is_object() && body.contains("error") && body["error"].is_string()) answer.error = body["error"];
  if (body.is_object() && body.contains("error_description") && body["error_description"].is_string())
    answer.error_description = body["error_description"];
  if (answer.error.empty()) answer.error = "HTTP " + std::to_string(response.status);
  return answer;
}

}  // namespace matih::plugins::identity
