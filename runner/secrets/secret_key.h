// SecretKey: the 32-byte key that encrypts the built-in secret store, and where it comes from.
//
// The key is read from a file (32 raw bytes, or 64 hex characters and optional trailing
// whitespace) that only its owner may read, or from the environment variable MATIH_SECRET_KEY
// (64 hex characters). Errors say what is wrong with the source and never echo any of its
// content. The bytes are wiped when the object goes away.
//
// Thread safety: a SecretKey is immutable after loading; any thread may read it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "secrets/key_material.h"

namespace matih::runner {

class SecretKey {
 public:
  static constexpr std::size_t kSize = KeyMaterial::kSize;
  static constexpr const char* kEnvVar = "MATIH_SECRET_KEY";

  // From a file: FailedPrecondition when it is missing, readable or writable by group or others,
  // or not a key; the message names the file.
  static Result<SecretKey> FromFile(const std::string& path);
  // From 64 hex characters (surrounding whitespace ignored). `source` names where the text came
  // from, for the error message ("environment variable MATIH_SECRET_KEY").
  static Result<SecretKey> FromHex(const std::string& hex, const std::string& source);
  // From MATIH_SECRET_KEY; FailedPrecondition when unset or malformed.
  static Result<SecretKey> FromEnvironment();
  // The file when `path` is given, else the environment.
  static Result<SecretKey> Load(const std::optional<std::string>& path);

  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  SecretKey(SecretKey&&) noexcept = default;
  SecretKey& operator=(SecretKey&&) noexcept = default;

  const std::uint8_t* data() const { return key_.data(); }
  // A short public fingerprint of the key (16 hex characters), stored beside each ciphertext
  // so a value encrypted under another key is reported as such. Reveals nothing of the key.
  const std::string& id() const { return key_.id(); }

 private:
  explicit SecretKey(const std::uint8_t* bytes);
  KeyMaterial key_;
};

}  // namespace matih::runner
