// WelcomeMessage: the text of the welcome e-mail (RFC 5322 + MIME, UTF-8 plain text, CRLF).
//
// It carries the admin's invite link, <invite_url>?tenant=<slug>&token=<invite token>, and never
// an API key. The text holds a credential, so it is built, sent and dropped: never logged, never
// stored. Header values are checked: an address with a line break or angle brackets is refused
// (InvalidArgument), so no value can add a header; a non-ASCII display name is encoded as an RFC
// 2047 word. Pure functions; safe from any thread.
#pragma once

#include <string>

namespace matih::plugins::notify {

struct WelcomeFields {
  std::string from;        // setting notify.from: "Name <address>" or "address"
  std::string recipient;   // the admin's address
  std::string message_id;  // "<...@domain>"
  std::string display_name, slug;
  std::string invite_link;  // holds the token
  std::string date;         // RFC 5322 date, e.g. "Tue, 01 Dec 2026 15:00:00 +0000"
};

// The bare address of a "Name <address>" or "address" value; InvalidArgument naming `setting`
// when it is not a plausible e-mail address.
std::string AddressOf(const std::string& value, const std::string& setting);
// A fresh Message-ID "<welcome.<random>.<tenant id>@<domain of from>>".
std::string NewMessageId(const std::string& tenant_id, const std::string& from_address);
// The invite link: `base` + "?tenant=" + slug + "&token=" + token (or '&' when base has a query).
std::string InviteLink(const std::string& base, const std::string& slug, const std::string& token);
// The whole message.
std::string BuildWelcomeMessage(const WelcomeFields& fields);
// Now, formatted for the Date header.
std::string Rfc5322Now();

}  // namespace matih::plugins::notify
