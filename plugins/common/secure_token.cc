#include "common/secure_token.h"

#include <sodium.h>

#include <array>
#include <cstdint>
#include <stdexcept>

namespace matih::plugins {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void InitSodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

uint32_t Crc32(std::string_view text) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char ch : text) crc = table[(crc ^ ch) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

}  // namespace

std::string RandomBase62(size_t length) {
  InitSodium();
  std::string out;
  out.reserve(length);
  for (size_t i = 0; i < length; ++i) out.push_back(kAlphabet[randombytes_uniform(62)]);
  return out;
}

std::string Base62Checksum(std::string_view text) {
  uint64_t value = Crc32(text);
  std::string out(kApiKeyChecksumLength, '0');
  for (size_t i = kApiKeyChecksumLength; i-- > 0;) {
    out[i] = kAlphabet[value % 62];
    value /= 62;
  }
  return out;
}

std::string NewApiKey() {
  std::string body = RandomBase62(kApiKeyBodyLength);
  return std::string(kApiKeyPrefix) + body + Base62Checksum(body);
}

bool IsWellFormedApiKey(std::string_view key) {
  if (key.size() != kApiKeyPrefix.size() + kApiKeyBodyLength + kApiKeyChecksumLength) return false;
  if (key.substr(0, kApiKeyPrefix.size()) != kApiKeyPrefix) return false;
  std::string_view rest = key.substr(kApiKeyPrefix.size());
  for (char c : rest)
    if (kAlphabet.find(c) == std::string_view::npos) return false;
  std::string_view body = rest.substr(0, kApiKeyBodyLength);
  return ConstantTimeEquals(Base62Checksum(body), rest.substr(kApiKeyBodyLength));
}

std::string NewInviteToken() { return "mti_" + RandomBase62(43); }

std::string KeyedHash(std::string_view key, std::string_view value) {
  InitSodium();
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(value.data()), value.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  char hex[crypto_auth_hmacsha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  sodium_memzero(&state, sizeof state);
  return std::string("hmac-sha256:") + hex;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  InitSodium();
  if (a.size() != b.size()) return false;  // lengths are not secret here
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace matih::plugins
