#include "storage/shared_key.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <matih/step.hpp>

#include "common/http_client.h"

namespace matih::plugins::storage {
namespace {

std::string Base64Decode(const std::string& text) {
  std::string clean;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) clean.push_back(c);
  if (clean.empty() || clean.size() % 4 != 0) throw InvalidArgument("an account key is not valid base64");
  std::string out(clean.size() / 4 * 3, '\0');
  int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0) throw InvalidArgument("an account key is not valid base64");
  size_t pad = 0;
  if (clean.size() >= 1 && clean[clean.size() - 1] == '=') ++pad;
  if (clean.size() >= 2 && clean[clean.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string Base64Encode(const unsigned char* data, size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::string SignWithKey(const std::string& key_base64, std::string_view text) {
  std::string key = Base64Decode(key_base64);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  const bool ok =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &mac_len) != nullptr;
  std::fill(key.begin(), key.end(), '\0');
  if (!ok) throw Error(MATIH_STATUS_INTERNAL, "HMAC-SHA256 failed");
  return Base64Encode(mac, mac_len);
}

std::string CanonicalRequestString(const std::string& method, const std::vector<std::string>& headers,
                                   const std::string& account, const std::string& url_path,
                                   const std::map<std::string, std::string>& query) {
  std::map<std::string, std::string> standard, ms;
  for (const auto& line : headers) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = Lower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(value.begin());
    while (!value.empty() && value.back() == ' ') value.pop_back();
    if (name.rfind("x-ms-", 0) == 0)
      ms[name] = value;
    else
      standard[name] = value;
  }
  auto header = [&](const char* name) {
    auto it = standard.find(name);
    if (it == standard.end()) return std::string();
    if (std::string(name) == "content-length" && it->second == "0") return std::string();
    return it->second;
  };
  std::string out = method + "\n";
  for (const char* name :
       {"content-encoding", "content-language", "content-length", "content-md5", "content-type", "date",
        "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range"})
    out += header(name) + "\n";
  for (const auto& [name, value] : ms) out += name + ":" + value + "\n";
  out += "/" + account + url_path;
  std::map<std::string, std::string> lowered;
  for (const auto& [k, v] : query) lowered[Lower(k)] = v;
  for (const auto& [k, v] : lowered) out += "\n" + k + ":" + v;
  return out;
}

std::string ContainerSasToken(const AccountKey& key, const std::string& container,
                              const std::string& policy_id) {
  // Signed fields of version 2020-12-06 and later, in order: sp, st, se (empty: from the policy),
  // canonical resource, si, sip, spr, sv, sr, snapshot time, ses, rscc, rscd, rsce, rscl, rsct.
  const std::string to_sign = std::string("\n\n\n") + "/blob/" + key.account + "/" + container + "\n" +
                              policy_id + "\n\n\n" + kSasVersion + "\nc\n\n\n\n\n\n\n";
  const std::string sig = SignWithKey(key.key_base64, to_sign);
  return std::string("sv=") + kSasVersion + "&sr=c&si=" + HttpClient::Escape(policy_id) +
         "&sig=" + HttpClient::Escape(sig);
}

std::string SasParameter(std::string_view token, std::string_view name) {
  size_t start = 0;
  while (start <= token.size()) {
    size_t amp = token.find('&', start);
    if (amp == std::string_view::npos) amp = token.size();
    std::string_view pair = token.substr(start, amp - start);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return PercentDecode(pair.substr(eq + 1));
    start = amp + 1;
  }
  return "";
}

}  // namespace matih::plugins::storage
