#include "vault/key_vault_client.h"

#include <matih/step.hpp>
#include <nlohmann/json.hpp>

namespace matih::plugins::vault {
namespace {

constexpr const char* kApiVersion = "api-version=7.4";

// The error code and message Key Vault answers with; short, never a secret value (values only
// travel in requests and 200 answers).
std::string ErrorText(const HttpResponse& r) {
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  std::string text = "HTTP " + std::to_string(r.status);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    text += " " + body["error"].value("code", std::string());
    const std::string message = body["error"].value("message", std::string());
    if (!message.empty()) text += ": " + message.substr(0, 200);
  }
  return text;
}

}  // namespace

bool IsValidKeyVaultName(const std::string& name) {
  if (name.empty() || name.size() > 127) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  return true;
}

KeyVaultClient::KeyVaultClient(std::string vault_url, std::string token, std::chrono::milliseconds timeout)
    : vault_url_(std::move(vault_url)), token_(std::move(token)), http_(TlsOptions{}, timeout) {
  while (!vault_url_.empty() && vault_url_.back() == '/') vault_url_.pop_back();
}

HttpResponse KeyVaultClient::Call(const std::string& method, const std::string& path, const std::string& body,
                                  const std::string& what) const {
  HttpRequest req;
  req.method = method;
  req.url = vault_url_ + path + "?" + kApiVersion;
  req.headers = {"Authorization: Bearer " + token_, "Accept: application/json"};
  if (!body.empty()) req.headers.push_back("Content-Type: application/json");
  req.body = body;
  HttpResponse r;
  try {
    r = http_.Send(req);
  } catch (const TransientError& e) {
    throw TransientError("Azure Key Vault at " + vault_url_ + " is unreachable (" + what + "): " + e.what());
  }
  if (IsTransientHttpStatus(r.status))
    throw TransientError("Azure Key Vault at " + vault_url_ + " is busy or failing (" + what +
                         "): " + ErrorText(r));
  if (r.status == 401 || r.status == 403)
    throw PermanentError("Azure Key Vault at " + vault_url_ + " refused the credentials (" + what +
                             "): " + ErrorText(r) + "; check setting vault.azure_token",
                         MATIH_STATUS_PERMISSION_DENIED);
  return r;
}

std::optional<KeyVaultSecret> KeyVaultClient::Get(const std::string& name) const {
  const std::string what = "read secret " + name;
  HttpResponse r = Call("GET", "/secrets/" + name, "", what);
  if (r.status == 404) return std::nullopt;
  if (r.status != 200)
    throw PermanentError("Azure Key Vault at " + vault_url_ + " answered " + ErrorText(r) + " (" + what +
                         ")");
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body.contains("value") || !body["value"].is_string())
    throw PermanentError("Azure Key Vault at " + vault_url_ + " answered a secret without a value (" + what +
                         ")");
  KeyVaultSecret out;
  out.value = body["value"].get<std::string>();
  if (body.contains("tags") && body["tags"].is_object())
    for (const auto& [k, v] : body["tags"].items())
      if (v.is_string()) out.tags[k] = v.get<std::string>();
  return out;
}

long KeyVaultClient::Set(const std::string& name, const KeyVaultSecret& secret) const {
  const std::string what = "set secret " + name;
  nlohmann::json body = {{"value", secret.value}, {"tags", secret.tags}};
  HttpResponse r = Call("PUT", "/secrets/" + name, body.dump(), what);
  if (r.status == 200 || r.status == 409) return r.status;
  throw PermanentError("Azure Key Vault at " + vault_url_ + " answered " + ErrorText(r) + " (" + what + ")");
}

bool KeyVaultClient::Delete(const std::string& name) const {
  const std::string what = "delete secret " + name;
  HttpResponse r = Call("DELETE", "/secrets/" + name, "", what);
  if (r.status == 200) return true;
  if (r.status == 404) return false;
  throw PermanentError("Azure Key Vault at " + vault_url_ + " answered " + ErrorText(r) + " (" + what + ")");
}

bool KeyVaultClient::IsDeleted(const std::string& name) const {
  const std::string what = "read deleted secret " + name;
  HttpResponse r = Call("GET", "/deletedsecrets/" + name, "", what);
  if (r.status == 200) return true;
  if (r.status == 404) return false;
  throw PermanentError("Azure Key Vault at " + vault_url_ + " answered " + ErrorText(r) + " (" + what + ")");
}

void KeyVaultClient::Recover(const std::string& name) const {
  const std::string what = "recover deleted secret " + name;
  HttpResponse r = Call("POST", "/deletedsecrets/" + name + "/recover", "", what);
  if (r.status == 200) return;
  // Recovery is asynchronous in Azure: a 409 while it is under way is worth a retry.
  if (r.status == 409)
    throw TransientError("Azure Key Vault at " + vault_url_ + " is still recovering secret " + name);
  throw PermanentError("Azure Key Vault at " + vault_url_ + " answered " + ErrorText(r) + " (" + what + ")");
}

bool KeyVaultClient::Purge(const std::string& name) const {
  const std::string what = "purge deleted secret " + name;
  HttpResponse r = Call("DELETE", "/deletedsecrets/" + name, "", what);
  if (r.status == 204 || r.status == 200) return true;
  if (r.status == 404) return false;
  throw PermanentError("Azure Key Vault at " + vault_url_ + " answered " + ErrorText(r) + " (" + what + ")");
}

}  // namespace matih::plugins::vault
