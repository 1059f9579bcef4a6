#include "identity/client_registration.h"

#include <algorithm>

#include "identity/identity_settings.h"

namespace matih::plugins::identity {
namespace {

nlohmann::json Normalised(const nlohmann::json& value) {
  if (!value.is_array()) return value;
  auto sorted = value;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  return sorted;
}

std::string Short(const nlohmann::json& value) {
  if (value.is_null()) return "(none)";
  std::string text = value.dump();
  return text.size() > 160 ? text.substr(0, 157) + "..." : text;
}

}  // namespace

std::optional<StoredRegistration> ClientRegistration::Stored() const {
  auto text = ctx_.secret(registration_secret_name());
  if (!text) return std::nullopt;
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object() || !json.contains("client_id") || !json.contains("registration_client_uri") ||
      !json.contains("registration_access_token"))
    throw PermanentError("step " + ctx_.step_name() + ": the stored registration " +
                         registration_secret_name() +
                         " is malformed; delete it to register the client again");
  return StoredRegistration{
      json["client_id"], json["registration_client_uri"], json["registration_access_token"],
      json.contains("metadata") && json["metadata"].is_object() ? json["metadata"] : nlohmann::json()};
}

void ClientRegistration::Store(const StoredRegistration& registration) {
  nlohmann::json json = {{"client_id", registration.client_id},
                         {"registration_client_uri", registration.client_uri},
                         {"registration_access_token", registration.access_token}};
  if (registration.metadata.is_object()) json["metadata"] = registration.metadata;
  ctx_.put_secret(registration_secret_name(), json.dump());
  stored_ = registration;
}

std::optional<nlohmann::json> ClientRegistration::Current() {
  token_lost_ = false;
  stored_ = Stored();
  if (!stored_) return std::nullopt;
  // A registration made at another provider (the setting identity.issuer_url changed) is not
  // this provider's client: it is absent here and gets registered here.
  if (stored_->client_uri.rfind(idp_.registration_endpoint() + "/", 0) != 0) return std::nullopt;
  auto current = idp_.Read(stored_->client_uri, stored_->access_token);
  if (current && current->value("client_id", "") != stored_->client_id)
    throw PermanentError("step " + ctx_.step_name() + ": the identity provider answered " +
                         stored_->client_uri + " with another client than " + stored_->client_id);
  if (!current) token_lost_ = StoredClientAlive();
  return current;
}

bool ClientRegistration::StoredClientAlive() {
  if (!stored_ || !stored_->metadata.is_object() || !stored_->metadata.contains(kRegistrationKeyField))
    return false;  // not adoptable anyway (registered before the key existed)
  const auto secret = StoredSecret();
  if (!secret) return false;
  const bool post = stored_->metadata.value("token_endpoint_auth_method", "") == "client_secret_post";
  const auto answer = idp_.ClientCredentials(stored_->client_id, *secret, "", post);
  // Refused for anything but its identity (e.g. unauthorized_client: no such grant) still proves it.
  return answer.granted || (answer.error != "invalid_client" && answer.status != 401);
}

nlohmann::json ClientRegistration::Adopt(const nlohmann::json& changes) {
  if (!token_lost_ || !stored_)
    throw PermanentError("step " + ctx_.step_name() + ": no client with a lost registration token to adopt");
  const auto metadata = UpdateBody(stored_->metadata, changes);
  auto answer = idp_.Register(metadata, InitialAccessToken(ctx_));
  if (answer["client_id"] != stored_->client_id) {
    idp_.Delete(answer["registration_client_uri"], answer["registration_access_token"]);
    throw PermanentError("step " + ctx_.step_name() + ": the identity provider " + idp_.issuer() +
                         " refuses the stored registration access token of client " + stored_->client_id +
                         " and does not give a client back by its " + kRegistrationKeyField +
                         "; store that client's current registration access token in " +
                         registration_secret_name() + " by hand");
  }
  Store({answer["client_id"], answer["registration_client_uri"], answer["registration_access_token"],
         metadata});
  if (answer.contains("client_secret") && answer["client_secret"].is_string())
    StoreSecret(answer["client_secret"]);
  token_lost_ = false;
  ctx_.info("adopted client " + stored_->client_id + " at " + idp_.issuer() +
            " again under its registration key (its registration access token was lost)");
  return answer;
}

nlohmann::json ClientRegistration::Register(const nlohmann::json& metadata,
                                            const std::string& initial_access_token) {
  auto answer = idp_.Register(metadata, initial_access_token);
  Store({answer["client_id"], answer["registration_client_uri"], answer["registration_access_token"],
         metadata});
  if (answer.contains("client_secret") && answer["client_secret"].is_string())
    StoreSecret(answer["client_secret"]);
  return answer;
}

nlohmann::json ClientRegistration::Replace(const nlohmann::json& record) {
  if (!stored_) stored_ = Stored();
  if (!stored_) throw PermanentError("step " + ctx_.step_name() + ": no stored registration to update");
  auto answer = idp_.Update(stored_->client_uri, stored_->access_token, record);
  // The old token is dead from now on: keep the rotated one before anything else can fail.
  Store({stored_->client_id, stored_->client_uri, answer["registration_access_token"], record});
  return answer;
}

std::optional<std::string> ClientRegistration::StoredSecret() const {
  return ctx_.secret(client_secret_name());
}

void ClientRegistration::StoreSecret(const std::string& secret) {
  ctx_.put_secret(client_secret_name(), secret);
}

void ClientRegistration::Remove() {
  if (auto stored = Stored()) {
    idp_.registration_endpoint();  // the configured provider must answer (TransientError if not)
    if (!idp_.Delete(stored->client_uri, stored->access_token)) {
      // Refused: gone, or our token was lost. A client still alive is adopted, then deleted.
      stored_ = stored;
      if ((token_lost_ = StoredClientAlive())) {
        auto answer = Adopt({});
        idp_.Delete(answer["registration_client_uri"], answer["registration_access_token"]);
      }
    }
  }
  DeleteSecret(client_secret_name());
  DeleteSecret(registration_secret_name());
  stored_.reset();
}

void ClientRegistration::DeleteSecret(const std::string& name) {
  const matih_host_api* host = ctx_.raw()->host;
  if (MATIH_ABI_HAS_FIELD(host, matih_host_api, callback_delete_secret) && host->callback_delete_secret) {
    ctx_.delete_secret(name);
    return;
  }
  // A runner older than step ABI 1.2 cannot delete secrets. The client is deleted at the
  // provider, so what stays is a dead credential, and observe answers ABSENT for it (the
  // provider answers 401).
  ctx_.warn("step " + ctx_.step_name() + ": this runner cannot delete secret " + name +
            " (step ABI older than 1.2); the credential it holds was revoked at the identity provider");
}

std::string RegistrationKey(const std::string& secret_name, const std::string& slug) {
  return "matih/" + secret_name + "/" + slug;
}

std::string MetadataDiff(const nlohmann::json& desired, const nlohmann::json& current) {
  std::string diff;
  for (const auto& [key, want] : desired.items()) {
    const nlohmann::json have = current.contains(key) ? current[key] : nlohmann::json();
    if (Normalised(want) == Normalised(have)) continue;
    if (want.is_array() && want.empty() && have.is_null()) continue;
    diff += (diff.empty() ? "" : "; ") + key + ": " + Short(have) + " -> " + Short(want);
  }
  return diff;
}

nlohmann::json UpdateBody(const nlohmann::json& current, const nlohmann::json& changes) {
  nlohmann::json body = current;
  for (const char* field : {"registration_access_token", "registration_client_uri", "client_secret",
                            "client_secret_expires_at", "client_id_issued_at"})
    body.erase(field);
  for (const auto& [key, value] : changes.items()) {
    if (value.is_null())
      body.erase(key);
    else
      body[key] = value;
  }
  return body;
}

}  // namespace matih::plugins::identity
