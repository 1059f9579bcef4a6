#include "identity/sso_client_step.h"

#include <regex>
#include <set>

#include "common/tenant_spec.h"
#include "identity/identity_settings.h"
#include "identity/managed_identity_step.h"

namespace matih::plugins::identity {
namespace {

const std::regex kLabel("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
const std::regex kZone("([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

std::vector<std::string> HostsParam(const nlohmann::json& params) {
  if (!params.contains("hosts")) return {"api", "bi"};
  if (!params["hosts"].is_array()) throw InvalidArgument("param hosts must be a list of host labels");
  std::vector<std::string> hosts;
  for (const auto& host : params["hosts"]) {
    if (!host.is_string() || !std::regex_match(host.get<std::string>(), kLabel))
      throw InvalidArgument("param hosts: " + host.dump() + " is not a DNS label");
    hosts.push_back(host);
  }
  return hosts;
}

std::string CallbackPath(const nlohmann::json& params) {
  if (!params.contains("callback_path")) return "/oauth2/callback";
  if (!params["callback_path"].is_string()) throw InvalidArgument("param callback_path must be a path");
  const std::string path = params["callback_path"];
  if (path.empty() || path[0] != '/' || path.find_first_of(" ?#") != std::string::npos)
    throw InvalidArgument("param callback_path must start with / and hold no query or fragment");
  return path;
}

}  // namespace

void SsoClientStep::validate_params(std::string_view params_json) {
  const auto params = ParamsObject(params_json);
  for (const auto& [key, value] : params.items())
    if (key != "hosts" && key != "callback_path" && key != "token_endpoint_auth_method")
      throw InvalidArgument("unknown param " + key + " of identity.sso_client");
  HostsParam(params);
  CallbackPath(params);
  TokenAuthMethod(params);
}

nlohmann::json SsoClientStep::Desired(const Context& ctx) const {
  const auto params = ParamsObject(ctx.params_json());
  std::string zone = ctx.required_setting("identity.parent_zone");
  while (!zone.empty() && zone.back() == '.') zone.pop_back();
  if (!std::regex_match(zone, kZone))
    throw InvalidArgument("setting identity.parent_zone '" + zone + "' is not a DNS zone name");
  std::set<std::string> hosts;
  for (const auto& host : HostsParam(params)) hosts.insert(host);
  for (const auto& service : TenantSpec::Parse(ctx.spec_json()).services())
    if (std::regex_match(service, kLabel)) hosts.insert(service);
  nlohmann::json redirects = nlohmann::json::array();
  const std::string path = CallbackPath(params);
  for (const auto& host : hosts)
    redirects.push_back("https://" + host + "." + ctx.slug() + "." + zone + path);
  return {
      {"client_name", "matih tenant " + ctx.slug() + " sign-on"},
      {"application_type", "web"},
      {"grant_types", {"authorization_code", "refresh_token"}},
      {"response_types", {"code"}},
      {"redirect_uris", redirects},
      {"token_endpoint_auth_method", TokenAuthMethod(params)},
      {"matih_tenant", ctx.slug()},
  };
}

void SsoClientStep::RecordOutputs(Context& ctx, const nlohmann::json& record) {
  std::string uris;
  for (const auto& uri : record.value("redirect_uris", nlohmann::json::array()))
    uris += (uris.empty() ? "" : ",") + uri.get<std::string>();
  ctx.set_output("redirect_uris", uris);
}

}  // namespace matih::plugins::identity
