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
// Lost answers. RFC 7591 has the provider choose the client_id and offers no look-up, so every
// client is registered with a unique name, client metadata `matih_registration_key`
// ("matih/<secret name>/<slug>"), under which the provider (our launcher; Entra ID looks app
// registrations up by unique name) gives back the live client of that name instead of making a
// second one. The registration secret also keeps the metadata last sent ("metadata"). Hence:
// a registration whose answer was lost is adopted by registering again; and a client whose
// rotated registration access token was lost (an update's answer lost, or the runner killed
// before storing it) is "token lost" — the provider refuses our token, yet the client still
// authenticates with its stored secret — and Adopt() registers its kept metadata again under its
// key, which returns the same client_id with a new token and secret. A provider that answers
// with another client_id does not adopt: that client is deleted again and Adopt fails.
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
  nlohmann::json metadata;   // the metadata last registered or updated (no secret); null if unknown
};

class ClientRegistration {
 public:
  ClientRegistration(Context& ctx, IdentityProvider& idp, std::string name)
      : ctx_(ctx), idp_(idp), name_(std::move(name)) {}

  std::optional<StoredRegistration> Stored() const;
  // The client's record at the provider, or nullopt when nothing is stored or the provider no
  // longer knows the client (deleted by hand) or its token (then token_lost() tells which).
  std::optional<nlohmann::json> Current();
  // After Current() answered nullopt: the client is alive at the provider (its stored secret
  // authenticates) but our registration access token is refused, and it can be adopted.
  bool token_lost() const { return token_lost_; }
  // Registers the kept metadata (with `changes` merged in, as UpdateBody does) again under its
  // key: the same client, a new token and secret, both stored. Returns the provider's answer.
  // REQUIRES: token_lost(). PermanentError when the provider made another client instead.
  nlohmann::json Adopt(const nlohmann::json& changes);
  // Registers `metadata` with the initial access token; stores the registration, then the secret.
  nlohmann::json Register(const nlohmann::json& metadata, const std::string& initial_access_token);
  // Replaces the whole record at the provider; stores the rotated registration access token.
  nlohmann::json Replace(const nlohmann::json& record);
  std::optional<std::string> StoredSecret() const;
  void StoreSecret(const std::string& secret);
  // Deletes the client at the provider (fine when gone; adopted first when its token was lost)
  // and both secrets.
  void Remove();

  std::string registration_secret_name() const { return name_ + "/registration"; }
  std::string client_secret_name() const { return name_ + "/client_secret"; }

 private:
  void Store(const StoredRegistration& registration);
  void DeleteSecret(const std::string& name);
  // Whether the stored client still authenticates with the stored secret (token_lost_ test).
  bool StoredClientAlive();

  Context& ctx_;
  IdentityProvider& idp_;
  std::string name_;
  std::optional<StoredRegistration> stored_;  // after Current()/Register()/Replace()
  bool token_lost_ = false;                   // set by Current()
};

// The unique name a step's client is registered under: "matih/<secret name>/<slug>".
std::string RegistrationKey(const std::string& secret_name, const std::string& slug);
inline constexpr const char* kRegistrationKeyField = "matih_registration_key";

// How `current` differs from `desired` over desired's keys, e.g. "redirect_uris: [a] -> [b]";
// "" when equal. Arrays of strings compare as sets. Only for metadata that holds no secret.
std::string MetadataDiff(const nlohmann::json& desired, const nlohmann::json& current);
// `current` (a read answer) turned into an update body: the fields only the provider sets
// (tokens, client_secret, issue times) dropped, then `changes` merged in (a null removes a key).
nlohmann::json UpdateBody(const nlohmann::json& current, const nlohmann::json& changes);

}  // namespace matih::plugins::identity
