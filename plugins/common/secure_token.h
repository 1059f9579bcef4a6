// Secrets the control plane hands out: invite tokens and API keys, and how they are stored.
//
// API keys look like `mtk_` + 32 base62 characters (about 190 bits from libsodium's CSPRNG) + a
// 6-character base62 CRC-32 of the body, so a secret scanner can recognise a leaked key with
// IsWellFormedApiKey without asking us. Tokens and keys are stored only as KeyedHash (HMAC-SHA256
// under the platform's hash key, hex, prefixed with the algorithm) and compared with
// ConstantTimeEquals. Safe to call from any thread.
#pragma once

#include <string>
#include <string_view>

namespace matih::plugins {

inline constexpr std::string_view kApiKeyPrefix = "mtk_";
inline constexpr size_t kApiKeyBodyLength = 32;
inline constexpr size_t kApiKeyChecksumLength = 6;

// `length` characters of [0-9A-Za-z], uniformly random.
std::string RandomBase62(size_t length);
// A new API key (see above).
std::string NewApiKey();
// True when `key` has the API key format and its checksum matches.
bool IsWellFormedApiKey(std::string_view key);
// A new invite token: `mti_` + 43 base62 characters.
std::string NewInviteToken();
// The 6-character base62 checksum of `text` (CRC-32).
std::string Base62Checksum(std::string_view text);
// "hmac-sha256:<hex>" of `value` under `key`.
std::string KeyedHash(std::string_view key, std::string_view value);
// Equality that takes the same time wherever the first difference is.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace matih::plugins
