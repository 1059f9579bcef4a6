#include "notify/welcome_message.h"

#include <sodium.h>

#include <ctime>
#include <matih/step.hpp>
#include <regex>

#include "common/http_client.h"
#include "common/secure_token.h"

namespace matih::plugins::notify {
namespace {

bool IsAscii(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

std::string NoLineBreaks(std::string s) {
  for (char& c : s)
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  return s;
}

std::string Base64(const std::string& s) {
  std::string out(sodium_base64_ENCODED_LEN(s.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(s.data()), s.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

// An RFC 2047 encoded word when the text is not plain ASCII.
std::string HeaderText(const std::string& text) {
  const std::string clean = NoLineBreaks(text);
  return IsAscii(clean) ? clean : "=?UTF-8?B?" + Base64(clean) + "?=";
}

}  // namespace

std::string AddressOf(const std::string& value, const std::string& setting) {
  std::string address = value;
  const auto open = value.rfind('<');
  if (open != std::string::npos) {
    const auto close = value.find('>', open);
    if (close == std::string::npos || close != value.size() - 1)
      throw InvalidArgument(setting + " is not an e-mail address (an unclosed '<')");
    address = value.substr(open + 1, close - open - 1);
    if (value.find_first_of("\r\n") != std::string::npos)
      throw InvalidArgument(setting + " must not contain a line break");
  }
  static const std::regex kAddress(
      R"([A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)");
  if (!std::regex_match(address, kAddress)) throw InvalidArgument(setting + " is not an e-mail address");
  return address;
}

std::string NewMessageId(const std::string& tenant_id, const std::string& from_address) {
  return "<welcome." + RandomBase62(16) + "." + tenant_id + "@" +
         from_address.substr(from_address.find('@') + 1) + ">";
}

std::string InviteLink(const std::string& base, const std::string& slug, const std::string& token) {
  const char joiner = base.find('?') == std::string::npos ? '?' : '&';
  return base + joiner + "tenant=" + HttpClient::Escape(slug) + "&token=" + HttpClient::Escape(token);
}

std::string Rfc5322Now() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &utc);
  return buf;
}

std::string BuildWelcomeMessage(const WelcomeFields& f) {
  const std::string name = NoLineBreaks(f.display_name);
  std::string m;
  auto header = [&m](const std::string& line) { m += line + "\r\n"; };
  header("Date: " + f.date);
  header("From: " + NoLineBreaks(f.from));
  header("To: " + f.recipient);
  header("Subject: " + HeaderText("Welcome to MATIH: your workspace " + name + " is ready"));
  header("Message-ID: " + f.message_id);
  header("MIME-Version: 1.0");
  header("Content-Type: text/plain; charset=utf-8");
  header("Content-Transfer-Encoding: 8bit");
  header("Auto-Submitted: auto-generated");
  m += "\r\n";
  m += "Hello,\r\n\r\n";
  m += "your MATIH workspace \"" + name + "\" (" + f.slug +
       ") is ready, and you are its administrator.\r\n\r\n";
  m += "Accept your invitation and choose your password here:\r\n\r\n";
  m += f.invite_link + "\r\n\r\n";
  m += "The link works once and expires after a few days. If you did not expect this e-mail, ignore it:\r\n";
  m += "nothing happens until the invitation is accepted.\r\n\r\n";
  m += "-- \r\nMATIH\r\n";
  return m;
}

}  // namespace matih::plugins::notify
