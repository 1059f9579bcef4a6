#include "kube_delivery/kube_credentials.h"

#include <sodium.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>

#include "common/settings.h"

namespace matih::plugins {
namespace {

constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

std::string Base64Decode(const std::string& text, const std::string& what) {
  std::string out(text.size(), '\0');
  size_t length = 0;
  if (sodium_init() < 0 ||
      sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(),
                        " \n\r", &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
    throw PermanentError("kubeconfig: " + what + " is not valid base64");
  out.resize(length);
  return out;
}

std::string Relative(const std::string& base_file, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return (std::filesystem::path(base_file).parent_path() / path).string();
}

YAML::Node Named(const YAML::Node& list, const std::string& name, const char* field,
                 const std::string& file) {
  if (list && list.IsSequence())
    for (const auto& item : list)
      if (item["name"] && item["name"].as<std::string>() == name && item[field]) return item[field];
  throw PermanentError("kubeconfig " + file + " has no " + field + " named '" + name + "'");
}

std::string Str(const YAML::Node& node, const char* key) {
  return node[key] && node[key].IsScalar() ? node[key].as<std::string>() : "";
}

KubeEndpoint FromKubeconfig(const Context& ctx, const std::string& file) {
  YAML::Node config;
  try {
    config = YAML::Load(ReadTextFile(file, "kubeconfig"));
  } catch (const YAML::Exception&) {
    throw PermanentError("kubeconfig " + file + " is not valid YAML");  // no echo: it holds credentials
  }
  std::string context_name = SettingOr(ctx, "kubernetes.context", Str(config, "current-context"));
  if (context_name.empty()) throw PermanentError("kubeconfig " + file + " has no current-context");
  YAML::Node context = Named(config["contexts"], context_name, "context", file);
  YAML::Node cluster = Named(config["clusters"], Str(context, "cluster"), "cluster", file);
  YAML::Node user = Named(config["users"], Str(context, "user"), "user", file);
  KubeEndpoint ep;
  ep.server = Str(cluster, "server");
  if (ep.server.empty()) throw PermanentError("kubeconfig " + file + ": cluster has no server");
  if (auto ca = Str(cluster, "certificate-authority-data"); !ca.empty())
    ep.tls.ca_pem = Base64Decode(ca, "certificate-authority-data");
  else
    ep.tls.ca_file = Relative(file, Str(cluster, "certificate-authority"));
  if (auto token = Str(user, "token"); !token.empty())
    ep.bearer_token = token;
  else if (auto token_file = Str(user, "tokenFile"); !token_file.empty())
    ep.bearer_token = Trim(ReadTextFile(Relative(file, token_file), "kubeconfig tokenFile"));
  if (auto cert = Str(user, "client-certificate-data"); !cert.empty())
    ep.tls.client_cert_pem = Base64Decode(cert, "client-certificate-data");
  else
    ep.tls.client_cert_file = Relative(file, Str(user, "client-certificate"));
  if (auto key = Str(user, "client-key-data"); !key.empty())
    ep.tls.client_key_pem = Base64Decode(key, "client-key-data");
  else
    ep.tls.client_key_file = Relative(file, Str(user, "client-key"));
  return ep;
}

}  // namespace

KubeEndpoint ResolveKubeEndpoint(const Context& ctx) {
  KubeEndpoint ep;
  if (auto url = ctx.setting("kubernetes.api_url")) {
    ep.server = *url;
    if (auto token_file = ctx.setting("kubernetes.token_file"))
      ep.bearer_token =
          Trim(ReadTextFile(*token_file, "the Kubernetes token (setting kubernetes.token_file)"));
    ep.tls.ca_file = SettingOr(ctx, "kubernetes.ca_file", "");
    ep.tls.client_cert_file = SettingOr(ctx, "kubernetes.client_cert_file", "");
    ep.tls.client_key_file = SettingOr(ctx, "kubernetes.client_key_file", "");
  } else if (auto kubeconfig = ctx.setting("kubernetes.kubeconfig")) {
    ep = FromKubeconfig(ctx, *kubeconfig);
  } else if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST")) {
    const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
    std::string h = host;
    if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6
    ep.server = "https://" + h + ":" + (port ? port : "443");
    ep.bearer_token =
        Trim(ReadTextFile(std::string(kServiceAccountDir) + "/token", "the service account token"));
    ep.tls.ca_file = std::string(kServiceAccountDir) + "/ca.crt";
  } else {
    throw PermanentError(
        "no Kubernetes API configured: set targets.kubernetes.api_url or targets.kubernetes.kubeconfig, or "
        "run "
        "in a cluster");
  }
  while (!ep.server.empty() && ep.server.back() == '/') ep.server.pop_back();
  if (ep.server.rfind("https://", 0) != 0) {
    const bool allow_http =
        ParseBool("kubernetes.allow_http", SettingOr(ctx, "kubernetes.allow_http", "false"));
    if (!(allow_http && ep.server.rfind("http://", 0) == 0))
      throw PermanentError("the Kubernetes API server must be an https:// URL (got " + ep.server + ")");
  }
  return ep;
}

}  // namespace matih::plugins
