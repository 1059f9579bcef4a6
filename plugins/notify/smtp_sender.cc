#include "notify/smtp_sender.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <matih/step.hpp>

namespace matih::plugins::notify {
namespace {

struct Upload {
  const std::string* text;
  size_t offset = 0;
};

size_t ReadMessage(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const size_t n = std::min(size * count, upload->text->size() - upload->offset);
  std::memcpy(buffer, upload->text->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

}  // namespace

struct SmtpSender::Handle {
  CURL* curl = nullptr;
  ~Handle() {
    if (curl) curl_easy_cleanup(curl);
  }
};

bool IsLoopbackHost(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "[::1]" || host == "localhost";
}

std::string SmtpHostOf(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  char* scheme = nullptr;
  char* host = nullptr;
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK ||
      curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK)
    throw InvalidArgument(
        "setting targets.notify.smtp_url is not a URL (want smtp://host:port or smtps://host:port)");
  const std::string s = scheme, h = host;
  curl_free(scheme);
  curl_free(host);
  if (s != "smtp" && s != "smtps")
    throw InvalidArgument("setting targets.notify.smtp_url must be smtp:// (STARTTLS) or smtps://, not " + s +
                          "://");
  return h;
}

SmtpSender::SmtpSender() : handle_(std::make_unique<Handle>()) {}
SmtpSender::~SmtpSender() = default;

SmtpResult SmtpSender::Send(const SmtpOptions& options, const std::string& envelope_from,
                            const std::string& recipient, const std::string& message) {
  const bool loopback = IsLoopbackHost(SmtpHostOf(options.url));
  std::lock_guard<std::mutex> lock(mu_);
  if (!handle_->curl) {
    curl_global_init(CURL_GLOBAL_DEFAULT);  // refcounted; harmless when done already
    handle_->curl = curl_easy_init();
    if (!handle_->curl) throw Error(MATIH_STATUS_INTERNAL, "curl_easy_init failed");
  }
  CURL* c = handle_->curl;
  curl_easy_reset(c);  // keeps the connection cache: the relay's connection is reused
  const std::string from = "<" + envelope_from + ">";
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + recipient + ">").c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpt_guard(rcpt, curl_slist_free_all);
  Upload upload{&message};

  curl_easy_setopt(c, CURLOPT_URL, options.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_USE_SSL,
                   loopback ? static_cast<long>(CURLUSESSL_NONE) : static_cast<long>(CURLUSESSL_ALL));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options.password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadMessage);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, options.timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(options.timeout_ms, 10000L));

  const CURLcode rc = curl_easy_perform(c);
  SmtpResult result;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.smtp_code);
  if (rc == CURLE_OK) {
    result.outcome = SmtpResult::Outcome::kSent;
    return result;
  }
  curl_off_t uploaded = 0;
  curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &uploaded);
  result.error = std::string(curl_easy_strerror(rc)) + " (curl " + std::to_string(rc) + ", SMTP reply " +
                 std::to_string(result.smtp_code) + ")";
  // Only a complete upload whose final reply never came leaves the relay's answer unknown; any
  // reply (even an odd one) or an unfinished upload means it does not have the message.
  const bool fully_uploaded = upload.offset >= message.size() && uploaded > 0;
  const bool no_reply = rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
                        rc == CURLE_PARTIAL_FILE;
  result.outcome = fully_uploaded && no_reply ? SmtpResult::Outcome::kUnknown : SmtpResult::Outcome::kNotSent;
  result.permanent = (result.smtp_code >= 500 && result.smtp_code < 600) || rc == CURLE_LOGIN_DENIED ||
                     rc == CURLE_USE_SSL_FAILED || rc == CURLE_PEER_FAILED_VERIFICATION ||
                     rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_URL_MALFORMAT ||
                     rc == CURLE_UNSUPPORTED_PROTOCOL;
  return result;
}

}  // namespace matih::plugins::notify
