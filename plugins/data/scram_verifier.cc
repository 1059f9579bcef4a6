#include "data/scram_verifier.h"

#include <sodium.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace matih::plugins::data {
namespace {

using Digest = std::array<unsigned char, crypto_auth_hmacsha256_BYTES>;
constexpr int kIterations = 4096;

void EnsureSodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

Digest Hmac(const unsigned char* key, size_t key_size, const unsigned char* data, size_t size) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key, key_size);
  crypto_auth_hmacsha256_update(&state, data, size);
  Digest out;
  crypto_auth_hmacsha256_final(&state, out.data());
  return out;
}

// Hi() of RFC 5802: PBKDF2 with HMAC-SHA-256, one block. The key is the same in every round, so
// the HMAC state after the key (its inner and outer pads) is made once and copied per round: each
// of the 4096 rounds then hashes two blocks instead of four (every drift pass checks every tenant's
// role this way).
Digest SaltedPassword(std::string_view password, const std::vector<unsigned char>& salt, int iterations) {
  crypto_auth_hmacsha256_state keyed;
  crypto_auth_hmacsha256_init(&keyed, reinterpret_cast<const unsigned char*>(password.data()),
                              password.size());
  auto round = [&keyed](const unsigned char* data, size_t size) {
    crypto_auth_hmacsha256_state state = keyed;
    crypto_auth_hmacsha256_update(&state, data, size);
    Digest out;
    crypto_auth_hmacsha256_final(&state, out.data());
    sodium_memzero(&state, sizeof state);
    return out;
  };
  std::vector<unsigned char> first(salt);
  first.insert(first.end(), {0, 0, 0, 1});
  Digest u = round(first.data(), first.size());
  Digest result = u;
  for (int i = 1; i < iterations; ++i) {
    u = round(u.data(), u.size());
    for (size_t j = 0; j < result.size(); ++j) result[j] ^= u[j];
  }
  sodium_memzero(u.data(), u.size());
  sodium_memzero(&keyed, sizeof keyed);
  return result;
}

struct Keys {
  Digest stored_key, server_key;
};

Keys KeysOf(std::string_view password, const std::vector<unsigned char>& salt, int iterations) {
  Digest salted = SaltedPassword(password, salt, iterations);
  static constexpr std::string_view kClient = "Client Key", kServer = "Server Key";
  Digest client_key = Hmac(salted.data(), salted.size(),
                           reinterpret_cast<const unsigned char*>(kClient.data()), kClient.size());
  Keys keys;
  crypto_hash_sha256(keys.stored_key.data(), client_key.data(), client_key.size());
  keys.server_key = Hmac(salted.data(), salted.size(), reinterpret_cast<const unsigned char*>(kServer.data()),
                         kServer.size());
  sodium_memzero(salted.data(), salted.size());
  sodium_memzero(client_key.data(), client_key.size());
  return keys;
}

std::string Base64(const unsigned char* data, size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

bool FromBase64(std::string_view text, std::vector<unsigned char>& out) {
  out.assign(text.size(), 0);
  size_t size = 0;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &size, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0)
    return false;
  out.resize(size);
  return true;
}

}  // namespace

std::string ScramSha256Verifier(std::string_view password) {
  EnsureSodium();
  std::vector<unsigned char> salt(16);
  randombytes_buf(salt.data(), salt.size());
  Keys keys = KeysOf(password, salt, kIterations);
  return "SCRAM-SHA-256$" + std::to_string(kIterations) + ":" + Base64(salt.data(), salt.size()) + "$" +
         Base64(keys.stored_key.data(), keys.stored_key.size()) + ":" +
         Base64(keys.server_key.data(), keys.server_key.size());
}

bool ScramVerifierMatches(std::string_view verifier, std::string_view password) {
  EnsureSodium();
  static constexpr std::string_view kPrefix = "SCRAM-SHA-256$";
  if (verifier.substr(0, kPrefix.size()) != kPrefix) return false;
  verifier.remove_prefix(kPrefix.size());
  const size_t colon1 = verifier.find(':'), dollar = verifier.find('$'), colon2 = verifier.rfind(':');
  if (colon1 == std::string_view::npos || dollar == std::string_view::npos || colon2 == colon1 ||
      !(colon1 < dollar && dollar < colon2))
    return false;
  int iterations = 0;
  for (char c : verifier.substr(0, colon1)) {
    if (c < '0' || c > '9' || iterations > 1000000) return false;
    iterations = iterations * 10 + (c - '0');
  }
  std::vector<unsigned char> salt, stored_key, server_key;
  if (iterations < 1 || !FromBase64(verifier.substr(colon1 + 1, dollar - colon1 - 1), salt) ||
      !FromBase64(verifier.substr(dollar + 1, colon2 - dollar - 1), stored_key) ||
      !FromBase64(verifier.substr(colon2 + 1), server_key) || stored_key.size() != crypto_hash_sha256_BYTES ||
      server_key.size() != crypto_auth_hmacsha256_BYTES)
    return false;
  Keys keys = KeysOf(password, salt, iterations);
  const bool stored_ok = sodium_memcmp(keys.stored_key.data(), stored_key.data(), stored_key.size()) == 0;
  const bool server_ok = sodium_memcmp(keys.server_key.data(), server_key.data(), server_key.size()) == 0;
  return stored_ok && server_ok;
}

}  // namespace matih::plugins::data
