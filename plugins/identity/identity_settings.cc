#include "identity/identity_settings.h"

#include "common/settings.h"

namespace matih::plugins::identity {
namespace {

bool LoopbackHttp(const std::string& url) {
  for (const char* prefix : {"http://127.0.0.1:", "http://127.0.0.1/",
                             "http://localhost:", "http://localhost/", "http://[::1]:", "http://[::1]/"})
    if (url.rfind(prefix, 0) == 0) return true;
  return url == "http://127.0.0.1" || url == "http://localhost" || url == "http://[::1]";
}

}  // namespace

ProviderSettings ProviderSettingsFrom(const Context& ctx) {
  ProviderSettings settings;
  settings.issuer_url = ctx.required_setting("identity.issuer_url");
  while (!settings.issuer_url.empty() && settings.issuer_url.back() == '/') settings.issuer_url.pop_back();
  // Client secrets and tokens travel on this connection: plain HTTP only where nothing can listen in.
  if (settings.issuer_url.rfind("https://", 0) != 0 && !LoopbackHttp(settings.issuer_url))
    throw InvalidArgument(
        "setting identity.issuer_url must be an https:// URL (http:// only on loopback), not '" +
        settings.issuer_url + "'");
  settings.tls.ca_file = SettingOr(ctx, "identity.ca_file", "");
  if (auto timeout = ctx.setting("identity.timeout_ms")) {
    const long long ms = ParseCount("identity.timeout_ms", *timeout);
    if (ms == 0)
      throw InvalidArgument("setting identity.timeout_ms must be a positive number of milliseconds");
    settings.timeout = std::chrono::milliseconds(ms);
  }
  return settings;
}

std::string InitialAccessToken(const Context& ctx) {
  auto token = ctx.setting("identity.initial_access_token");
  if (!token || token->empty())
    throw PermanentError(Who(ctx) +
                         ": missing runner setting targets.identity.initial_access_token (the identity "
                         "provider's initial access token for client registration)");
  return *token;
}

std::string Who(const Context& ctx) { return "step " + ctx.step_name() + " of tenant " + ctx.slug(); }

nlohmann::json ParamsObject(std::string_view params_json) {
  auto params =
      nlohmann::json::parse(params_json.empty() ? std::string_view("{}") : params_json, nullptr, false);
  if (!params.is_object()) throw InvalidArgument("params must be an object");
  return params;
}

}  // namespace matih::plugins::identity
