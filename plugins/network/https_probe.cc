#include "network/https_probe.h"

#include <curl/curl.h>

#include <cstring>
#include <memory>

namespace matih::plugins::network {
namespace {

size_t Collect(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() < 65536) body->append(data, size * count);
  return size * count;
}

}  // namespace

std::string CompactPem(const std::string& pem) {
  std::string out;
  for (char c : pem)
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') out += c;
  return out;
}

ProbeResult ProbeGet(const std::string& url, const std::string& host, int port, const std::string& address,
                     const std::string& ca_file, std::chrono::milliseconds timeout) {
  ProbeResult result;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    result.error = "libcurl could not start";
    return result;
  }
  const std::string pin = host + ":" + std::to_string(port) + ":" +
                          (address.find(':') != std::string::npos ? "[" + address + "]" : address);
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> resolve(curl_slist_append(nullptr, pin.c_str()),
                                                                      curl_slist_free_all);
  char errbuf[CURL_ERROR_SIZE] = {0};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_RESOLVE, resolve.get());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, ca_file.c_str());  // else the system CAs
  curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
  CURLcode rc = curl_easy_perform(h);
  curl_off_t connect_time = 0;
  curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_time);
  result.connected = rc == CURLE_OK || connect_time > 0;
  if (rc != CURLE_OK) {
    result.error = std::string(curl_easy_strerror(rc)) + (errbuf[0] ? std::string(": ") + errbuf : "");
    result.tls_failed = rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
                        rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE;
    if (result.tls_failed) result.connected = true;
    return result;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &result.status);
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &info) == CURLE_OK && info && info->num_of_certs > 0)
    for (curl_slist* s = info->certinfo[0]; s; s = s->next)
      if (std::strncmp(s->data, "Cert:", 5) == 0) result.peer_cert_pem = s->data + 5;
  return result;
}

}  // namespace matih::plugins::network
