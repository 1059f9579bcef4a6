// Envelope: the cryptography of the built-in secret store, apart from its storage.
//
// Each tenant has a data key (32 random bytes). The data key is kept wrapped by the runner's
// master key (SecretKey) with XChaCha20-Poly1305, the tenant id as associated data, so a wrapped
// key copied to another tenant's row does not open. The tenant's values are sealed with the data
// key, the tenant id and the secret's name as associated data. Values written before envelope
// encryption were sealed directly by the master key ("legacy" values); OpenLegacy reads them.
// Rotating the master key re-wraps data keys only: values are never decrypted for it.
//
// Key material is wiped when a DataKey goes away. Pure functions; any thread may call them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "secrets/key_material.h"
#include "secrets/secret_key.h"

namespace matih::runner {

// A tenant's unwrapped data key. Move-only; wiped on destruction.
class DataKey {
 public:
  static constexpr std::size_t kSize = KeyMaterial::kSize;
  static DataKey Generate();

  DataKey(const DataKey&) = delete;
  DataKey& operator=(const DataKey&) = delete;
  DataKey(DataKey&&) noexcept = default;
  DataKey& operator=(DataKey&&) noexcept = default;

  const std::uint8_t* data() const { return key_.data(); }
  // Public fingerprint (16 hex characters), stored beside what the key seals.
  const std::string& id() const { return key_.id(); }

 private:
  friend Result<DataKey> UnwrapDataKey(const SecretKey&, const std::string&, const std::string&,
                                       const std::string&);
  explicit DataKey(const std::uint8_t* bytes);
  KeyMaterial key_;
};

// Nonce (24 bytes) and ciphertext (with its 16-byte tag), as raw bytes.
struct Sealed {
  std::string nonce;
  std::string ciphertext;
};

Sealed WrapDataKey(const SecretKey& master, const std::string& tenant_id, const DataKey& key);
// FailedPrecondition when it does not authenticate under `master` (another key, or tampered with).
Result<DataKey> UnwrapDataKey(const SecretKey& master, const std::string& tenant_id, const std::string& nonce,
                              const std::string& wrapped);

Sealed SealValue(const DataKey& key, const std::string& tenant_id, const std::string& name,
                 std::string_view value);
// Writes the plaintext to `plain`; false when the ciphertext does not authenticate.
bool OpenValue(const DataKey& key, const std::string& tenant_id, const std::string& name,
               const Sealed& sealed, std::string* plain);
// A legacy value, sealed by the master key itself (what stores before envelope encryption wrote;
// SealLegacy is kept for the tests of that upgrade path).
Sealed SealLegacy(const SecretKey& master, const std::string& tenant_id, const std::string& name,
                  std::string_view value);
bool OpenLegacy(const SecretKey& master, const std::string& tenant_id, const std::string& name,
                const Sealed& sealed, std::string* plain);

}  // namespace matih::runner
