// ClientRegistration: one client a step registered for a tenant at the identity provider, and
// what the provisioner keeps of it. The plugin's secret store holds, per tenant,
// "<name>/registration" (JSON: client_id, registration_client_uri, registration_access_token) and
// "<name>/client_secret"; the provider holds the record itself, which is the truth observe reads.
//
// RFC 7592 facts this class absorbs: the registration access token rotates on every update, so
// Replace stores the new one before anything else; an update replaces the whole record, so
// callers send the whole record (UpdateBody keeps the fields other steps own); a deleted client
// answers 401, so Current() reports it as absent.
//
// Valid during one step call (borrows the Context and the IdentityProvider); not shared between
// threads.
#pragma once

#include <matih/step.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "identity/identity_provider.h"

namespace matih::plugins::identity {

struct StoredRegistration {
  std::string client_id;
  std::string client_uri;    // registration_client_uri
  std::string access_token;  // registration_access_token (secret)
};

class ClientRegistration {
 public:
  ClientRegistration(Context& ctx, IdentityProvider& idp, std::string name)
      : ctx_(ctx), idp_(idp), name_(std::move(name)) {}

  std::optional<StoredRegistration> Stored() const;
  // The client's record at the provider, or nullopt when nothing is stored or the provider no
  // longer knows the client (deleted by hand) or its token.
  std::optional<nlohmann::json> Current();
  // Registers `metadata` with the initial access token; stores the registration, then the secret.
  nlohmann::json Register(const nlohmann::json& metadata, const std::string& initial_access_token);
  // Replaces the whole record at the provider; stores the rotated registration access token.
  nlohmann::json Replace(const nlohmann::json& record);
  std::optional<std::string> StoredSecret() const;
  void StoreSecret(const std::string& secret);
  // Deletes the client at the provider (fine when gone) and both secrets.
  void Remove();

  std::string registration_secret_name() const { return name_ + "/registration"; }
  std::string client_secret_name() const { return name_ + "/client_secret"; }

 private:
  void Store(const StoredRegistration& registration);
  void DeleteSecret(const std::string& name);

  Context& ctx_;
  IdentityProvider& idp_;
  std::string name_;
  std::optional<StoredRegistration> stored_;  // after Current()/Register()/Replace()
};

// How `current` differs from `desired` over desired's keys, e.g. "redirect_uris: [a] -> [b]";
// "" when equal. Arrays of strings compare as sets. Only for metadata that holds no secret.
std::string MetadataDiff(const nlohmann::json& desired, const nlohmann::json& current);
// `current` (a read answer) turned into an update body: the fields only the provider sets
// (tokens, client_secret, issue times) dropped, then `changes` merged in (a null removes a key).
nlohmann::json UpdateBody(const nlohmann::json& current, const nlohmann::json& changes);

}  // namespace matih::plugins::identity
