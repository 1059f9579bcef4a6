// PooledHttp: HTTP calls to the identity provider over reused connections.
//
// plugins/common's HttpClient opens a fresh libcurl handle (so a fresh TCP connection) per call;
// a step here makes several calls per tenant (discovery, read, update, token), so this keeps a
// small mutex-guarded pool of idle libcurl handles, each with its live connections, and hands one
// to each call. Requests and answers use HttpClient's HttpRequest / HttpResponse, and errors
// follow HttpClient's contract: unreachable or timed out is TransientError, a TLS failure or a
// malformed URL is PermanentError, HTTP statuses are returned. Bodies and headers are never
// logged (they carry secrets).
//
// One PooledHttp per plugin, created in plugin.cc and shared by its steps; safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "common/http_client.h"

namespace matih::plugins::identity {

class PooledHttp {
 public:
  explicit PooledHttp(size_t max_idle = 8) : max_idle_(max_idle) {}
  ~PooledHttp();
  PooledHttp(const PooledHttp&) = delete;
  PooledHttp& operator=(const PooledHttp&) = delete;

  HttpResponse Send(const HttpRequest& request, const TlsOptions& tls, std::chrono::milliseconds timeout);

  // TCP connections opened so far (libcurl's CURLINFO_NUM_CONNECTS, summed): tests check reuse.
  long connections_opened() const { return connections_opened_.load(); }

 private:
  void* Acquire();
  void Release(void* handle);

  const size_t max_idle_;
  std::mutex mu_;
  std::vector<void*> idle_;  // guarded by mu_; CURL* handles with their connection caches
  std::atomic<long> connections_opened_{0};
};

}  // namespace matih::plugins::identity
