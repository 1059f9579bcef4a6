#include "chaos/secrets_scan_scanner.h"

#include <cctype>
#include <cstdio>

namespace matih::testing {

void SecretScanner::AddSecret(const std::string& name, const std::string& value) {
  if (value.size() < kMinLength) {
    ++skipped_;
    return;
  }
  secrets_.emplace(value, name);
}

void SecretScanner::AddPlace(const std::string& label, std::string text) {
  places_.emplace_back(label, std::move(text));
}

size_t SecretScanner::bytes() const {
  size_t n = 0;
  for (const auto& [label, text] : places_) n += text.size();
  return n;
}

std::string SecretScanner::Base64(const std::string& in, bool url_alphabet) {
  const char* alphabet = url_alphabet ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                                      : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += alphabet[(v >> shift) & 63];
  }
  // The tail is left out: its last characters depend on what follows the value in the encoded
  // text, so only the whole groups are searched (still at least 8 characters for 8 bytes).
  return out;
}

std::string SecretScanner::PercentEncode(const std::string& in) {
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::vector<SecretScanner::Hit> SecretScanner::Scan() const {
  std::vector<Hit> hits;
  for (const auto& [value, name] : secrets_) {
    // A value encodes differently in base64 at each of the three offsets modulo 3 of the text
    // it is part of: search the whole groups of each alignment.
    std::vector<std::pair<std::string, std::string>> forms = {{"raw", value}};
    for (size_t skip = 0; skip < 3; ++skip) {
      const std::string pad(skip, '\0');
      for (bool url : {false, true}) {
        std::string encoded = Base64(pad + value, url);
        encoded.erase(0, skip == 0 ? 0 : 4);  // the first group holds the unknown prefix
        if (encoded.size() >= kMinLength) forms.emplace_back(url ? "base64url" : "base64", encoded);
      }
    }
    const std::string percent = PercentEncode(value);
    if (percent != value) forms.emplace_back("percent", percent);
    for (const auto& [label, text] : places_)
      for (const auto& [encoding, form] : forms)
        if (text.find(form) != std::string::npos) {
          hits.push_back({name, label, encoding});
          break;
        }
  }
  return hits;
}

}  // namespace matih::testing
