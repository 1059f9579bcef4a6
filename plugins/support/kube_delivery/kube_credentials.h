// KubeEndpoint: the API server to talk to and the credentials to use, from settings.
//
// In order of preference:
//   1. kubernetes.api_url (+ kubernetes.token_file or kubernetes.client_cert_file/client_key_file,
//      kubernetes.ca_file);
//   2. kubernetes.kubeconfig: the current context (or kubernetes.context) of a kubeconfig file:
//      server, certificate-authority(-data), and the user's token, tokenFile or
//      client-certificate(-data) + client-key(-data); relative paths are relative to the file;
//   3. in-cluster: KUBERNETES_SERVICE_HOST/PORT and the service account's token and ca.crt under
//      /var/run/secrets/kubernetes.io/serviceaccount.
// The token is read on every call (projected tokens rotate) and never logged or put in a message.
// TLS is always verified; a plain http:// server is accepted only when kubernetes.allow_http is
// true (the fake API server of the tests).
#pragma once

#include <matih/step.hpp>
#include <string>

#include "common/http_client.h"

namespace matih::plugins {

struct KubeEndpoint {
  std::string server;        // "https://10.0.0.1:6443", no trailing slash
  std::string bearer_token;  // empty when a client certificate is used
  TlsOptions tls;
};

KubeEndpoint ResolveKubeEndpoint(const Context& ctx);

}  // namespace matih::plugins
