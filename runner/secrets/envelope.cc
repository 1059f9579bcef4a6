#include "secrets/envelope.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace matih::runner {
namespace {

constexpr std::size_t kNonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagSize = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == DataKey::kSize);

// Length-prefixed parts after a label, so no two tuples produce the same bytes.
std::vector<unsigned char> AssociatedData(const char* label, std::initializer_list<std::string_view> parts) {
  std::vector<unsigned char> ad(label, label + std::strlen(label));
  for (std::string_view part : parts) {
    auto n = static_cast<std::uint32_t>(part.size());
    for (int shift = 24; shift >= 0; shift -= 8) ad.push_back(static_cast<unsigned char>(n >> shift));
    ad.insert(ad.end(), part.begin(), part.end());
  }
  return ad;
}

// Labels: "v1" is the legacy value format (master key); data keys and values under them are new.
constexpr const char* kLegacyValueLabel = "matih.tenant-secret.v1";
constexpr const char* kValueLabel = "matih.tenant-secret.v2";
constexpr const char* kDataKeyLabel = "matih.tenant-data-key.v1";

const unsigned char* Bytes(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }

Sealed Seal(const std::uint8_t* key, const std::vector<unsigned char>& ad, const unsigned char* data,
            std::size_t size) {
  Sealed out;
  out.nonce.resize(kNonceSize);
  randombytes_buf(out.nonce.data(), kNonceSize);
  out.ciphertext.resize(size + kTagSize);
  unsigned long long sealed_size = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char*>(out.ciphertext.data()),
                                             &sealed_size, data, size, ad.data(), ad.size(), nullptr,
                                             Bytes(out.nonce), key);
  out.ciphertext.resize(sealed_size);
  return out;
}

bool Open(const std::uint8_t* key, const std::vector<unsigned char>& ad, const Sealed& sealed,
          std::string* plain) {
  if (sealed.nonce.size() != kNonceSize || sealed.ciphertext.size() < kTagSize) return false;
  // Always on the heap (never in the small-string buffer), so moving the result out leaves no
  // copy of the plaintext behind.
  plain->clear();
  plain->reserve(std::max<std::size_t>(sealed.ciphertext.size() - kTagSize, 32));
  plain->resize(sealed.ciphertext.size() - kTagSize);
  unsigned long long plain_size = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plain->data()), &plain_size,
                                                 nullptr, Bytes(sealed.ciphertext), sealed.ciphertext.size(),
                                                 ad.data(), ad.size(), Bytes(sealed.nonce), key) != 0) {
    sodium_memzero(plain->data(), plain->size());
    plain->clear();
    return false;
  }
  plain->resize(plain_size);
  return true;
}

}  // namespace

DataKey::DataKey(const std::uint8_t* bytes) : key_(bytes, "matih.data-key-id.v1") {}

DataKey DataKey::Generate() {
  // A SecretKey (and so sodium_init) exists before any data key is made.
  std::uint8_t bytes[kSize];
  randombytes_buf(bytes, sizeof bytes);
  DataKey key(bytes);
  sodium_memzero(bytes, sizeof bytes);
  return key;
}

Sealed WrapDataKey(const SecretKey& master, const std::string& tenant_id, const DataKey& key) {
  return Seal(master.data(), AssociatedData(kDataKeyLabel, {tenant_id}), key.data(), DataKey::kSize);
}

Result<DataKey> UnwrapDataKey(const SecretKey& master, const std::string& tenant_id, const std::string& nonce,
                              const std::string& wrapped) {
  std::string plain;
  if (!Open(master.data(), AssociatedData(kDataKeyLabel, {tenant_id}), Sealed{nonce, wrapped}, &plain) ||
      plain.size() != DataKey::kSize) {
    sodium_memzero(plain.data(), plain.size());
    return FailedPrecondition("the data key of tenant " + tenant_id +
                              " does not open with the master key (key id " + master.id() +
                              "): another key, or the row was tampered with");
  }
  DataKey key(reinterpret_cast<const std::uint8_t*>(plain.data()));
  sodium_memzero(plain.data(), plain.size());
  return key;
}

Sealed SealValue(const DataKey& key, const std::string& tenant_id, const std::string& name,
                 std::string_view value) {
  return Seal(key.data(), AssociatedData(kValueLabel, {tenant_id, name}),
              reinterpret_cast<const unsigned char*>(value.data()), value.size());
}

bool OpenValue(const DataKey& key, const std::string& tenant_id, const std::string& name,
               const Sealed& sealed, std::string* plain) {
  return Open(key.data(), AssociatedData(kValueLabel, {tenant_id, name}), sealed, plain);
}

Sealed SealLegacy(const SecretKey& master, const std::string& tenant_id, const std::string& name,
                  std::string_view value) {
  return Seal(master.data(), AssociatedData(kLegacyValueLabel, {tenant_id, name}),
              reinterpret_cast<const unsigned char*>(value.data()), value.size());
}

bool OpenLegacy(const SecretKey& master, const std::string& tenant_id, const std::string& name,
                const Sealed& sealed, std::string* plain) {
  return Open(master.data(), AssociatedData(kLegacyValueLabel, {tenant_id, name}), sealed, plain);
}

}  // namespace matih::runner
