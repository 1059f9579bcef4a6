// SmtpSender: hands one message to an SMTP relay with libcurl, and says whether the relay took it.
//
// TLS: smtps:// is TLS from the first byte; smtp:// must upgrade with STARTTLS unless the host is
// loopback (127.0.0.1, ::1, localhost: the local MailDev), so credentials and invite links never
// cross a network in clear. Peers are verified against the system's CAs. With a user, the relay
// must accept AUTH. The password is never logged or put into a message.
//
// Outcome of a send, for exactly-once delivery (welcome_outbox.h):
//   kSent     the relay answered 250 to the end of the message: it has it;
//   kNotSent  the relay cannot have it: we could not connect, authenticate, or finish the upload,
//             or it refused the sender, a recipient or the message;
//   kUnknown  the whole message was uploaded but its answer never came (timeout, lost
//             connection): the relay may or may not have it.
//
// One handle per sender, reused call after call so libcurl keeps the connection to the relay;
// Send is serialised by a mutex, so a sender may be shared by all threads of a plugin.
#pragma once

#include <memory>
#include <mutex>
#include <string>

namespace matih::plugins::notify {

struct SmtpOptions {
  std::string url;  // smtp://host:port or smtps://host:port
  std::string user;
  std::string password;
  long timeout_ms = 30000;
};

struct SmtpResult {
  enum class Outcome { kSent, kNotSent, kUnknown };
  Outcome outcome = Outcome::kNotSent;
  long smtp_code = 0;      // the relay's last reply code, 0 when none
  bool permanent = false;  // kNotSent that a retry will not fix (5xx reply, login or TLS refused)
  std::string error;       // curl's words and the code; never a credential
};

// True for the hosts that may be spoken to without TLS.
bool IsLoopbackHost(const std::string& host);
// The host of an smtp(s):// URL; InvalidArgument naming the setting when the URL is not one.
std::string SmtpHostOf(const std::string& url);

class SmtpSender {
 public:
  SmtpSender();
  ~SmtpSender();
  SmtpSender(const SmtpSender&) = delete;
  SmtpSender& operator=(const SmtpSender&) = delete;

  // `message` is the whole RFC 5322 text with CRLF line ends.
  SmtpResult Send(const SmtpOptions& options, const std::string& envelope_from, const std::string& recipient,
                  const std::string& message);

 private:
  struct Handle;
  std::mutex mu_;
  std::unique_ptr<Handle> handle_;
};

}  // namespace matih::plugins::notify
