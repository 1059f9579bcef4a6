// HttpsProbe: one GET to a tenant's ingress as a client would make it, over libcurl: the host
// name is resolved to an address the caller got from the DNS server (CURLOPT_RESOLVE, so no
// system resolver and no /etc/hosts are involved), TLS is verified against the given CA (chain
// and host name; there is no insecure mode), and the certificate the server presented is
// returned for comparison. Separate from common/http_client because it needs CURLOPT_RESOLVE and
// the peer's certificate, which that client does not expose.
//
// Never throws for what the server did: the result says whether it could connect, whether TLS
// verification failed, and what it answered. One call per probe; safe from any thread.
#pragma once

#include <chrono>
#include <string>

namespace matih::plugins::network {

struct ProbeResult {
  bool connected = false;   // a TCP connection was made
  bool tls_failed = false;  // the handshake or the verification failed
  std::string error;        // curl's words when the request failed
  long status = 0;
  std::string body;
  std::string peer_cert_pem;  // the server's leaf certificate (https only)
};

// GET `url`; `host` and `port` of the URL are pinned to `address`; `ca_file` verifies https
// (empty: the system's CAs).
ProbeResult ProbeGet(const std::string& url, const std::string& host, int port, const std::string& address,
                     const std::string& ca_file, std::chrono::milliseconds timeout);

// The PEM text with whitespace removed, for comparing two encodings of one certificate.
std::string CompactPem(const std::string& pem);

}  // namespace matih::plugins::network
