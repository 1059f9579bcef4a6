#include "common/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <matih/step.hpp>
#include <memory>
#include <mutex>

namespace matih::plugins {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  std::string line(data, size * count);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(value.begin());
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * count;
}

curl_blob Blob(const std::string& pem) {
  curl_blob blob{};
  blob.data = const_cast<char*>(pem.data());
  blob.len = pem.size();
  blob.flags = CURL_BLOB_COPY;
  return blob;
}

// Easy handles kept between requests: each keeps its connections (and TLS sessions) alive, so a
// drift pass talks to a target over a few open connections instead of connecting per call. A
// handle is reset before reuse; libcurl only reuses a kept connection for a request whose host,
// port and TLS settings match. Safe from any thread.
class HandlePool {
 public:
  static CURL* Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu());
      if (!free().empty()) {
        CURL* c = free().back();
        free().pop_back();
        curl_easy_reset(c);
        return c;
      }
    }
    return curl_easy_init();
  }
  static void Release(CURL* c) {
    std::lock_guard<std::mutex> lock(mu());
    if (free().size() < kMaxIdle) {
      free().push_back(c);
    } else {
      curl_easy_cleanup(c);
    }
  }

 private:
  static constexpr size_t kMaxIdle = 16;
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  // The idle handles, cleaned up when the plugin (or the process) goes away.
  struct IdleHandles : std::vector<CURL*> {
    ~IdleHandles() {
      for (CURL* c : *this) curl_easy_cleanup(c);
    }
  };
  static std::vector<CURL*>& free() {
    static IdleHandles handles;
    return handles;
  }
};

struct PooledHandle {
  CURL* handle = HandlePool::Acquire();
  ~PooledHandle() {
    if (handle) HandlePool::Release(handle);
  }
};

}  // namespace

std::string HttpClient::Escape(const std::string& text) {
  GlobalInit();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  char* escaped = curl_easy_escape(curl.get(), text.c_str(), static_cast<int>(text.size()));
  std::string out = escaped ? escaped : "";
  curl_free(escaped);
  return out;
}

HttpResponse HttpClient::Send(const HttpRequest& request) const {
  GlobalInit();
  PooledHandle curl;
  if (!curl.handle) throw Error(MATIH_STATUS_INTERNAL, "curl_easy_init failed");
  CURL* c = curl.handle;
  HttpResponse response;
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers, curl_slist_free_all);

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<long long>(timeout_.count(), 10000)));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  if (!request.body.empty() || request.method == "POST" || request.method == "PATCH" ||
      request.method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_blob ca = Blob(tls_.ca_pem), cert = Blob(tls_.client_cert_pem), key = Blob(tls_.client_key_pem);
  if (!tls_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, tls_.ca_file.c_str());
  if (!tls_.ca_pem.empty()) curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
  if (!tls_.client_cert_file.empty()) curl_easy_setopt(c, CURLOPT_SSLCERT, tls_.client_cert_file.c_str());
  if (!tls_.client_cert_pem.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (!tls_.client_key_file.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, tls_.client_key_file.c_str());
  if (!tls_.client_key_pem.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);

  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    std::string what = request.method + " " + request.url + ": " + curl_easy_strerror(rc);
    switch (rc) {
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CIPHER:
      case CURLE_UNSUPPORTED_PROTOCOL:
      case CURLE_URL_MALFORMAT: throw PermanentError(what);
      default: throw TransientError(what);
    }
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace matih::plugins
