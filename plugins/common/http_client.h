// HttpClient: the one HTTP client of the built-in plugins, over libcurl.
//
// TLS is always verified (peer and host name) against the given CA, or the system's when none is
// given; client certificates and CAs may come from files or PEM text. Errors: a server that cannot
// be reached or times out is TransientError; a TLS failure is PermanentError (a retry will not fix
// a wrong CA). HTTP status codes are returned, not thrown: callers decide what 404 or 409 means.
// Request bodies and headers are never logged (they may carry tokens).
//
// One client per call; not shared between threads. Connections outlive the client: libcurl handles
// are pooled per plugin and process, so calls to one target reuse open connections.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace matih::plugins {

struct TlsOptions {
  std::string ca_file;  // PEM bundle; empty: system CAs
  std::string ca_pem;   // PEM text instead of a file
  std::string client_cert_file;
  std::string client_cert_pem;
  std::string client_key_file;
  std::string client_key_pem;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
};

// Whether an HTTP status says "try again later": 408 (request timeout), 429 (too many requests)
// and every 5xx. The one rule of the built-in plugins for what is transient.
inline bool IsTransientHttpStatus(long status) { return status >= 500 || status == 429 || status == 408; }

class HttpClient {
 public:
  explicit HttpClient(TlsOptions tls = {}, std::chrono::milliseconds timeout = std::chrono::seconds(30))
      : tls_(std::move(tls)), timeout_(timeout) {}

  HttpResponse Send(const HttpRequest& request) const;

  // Percent-encodes a query parameter value.
  static std::string Escape(const std::string& text);

 private:
  TlsOptions tls_;
  std::chrono::milliseconds timeout_;
};

}  // namespace matih::plugins
