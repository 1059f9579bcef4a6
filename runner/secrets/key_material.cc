#include "secrets/key_material.h"

#include <sodium.h>

#include <cstring>
#include <utility>

namespace matih::runner {

KeyMaterial::KeyMaterial(const std::uint8_t* bytes, const char* id_label) {
  std::memcpy(bytes_.data(), bytes, kSize);
  std::uint8_t digest[8];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(id_label),
                     std::strlen(id_label), bytes_.data(), bytes_.size());
  char hex[2 * sizeof digest + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  id_ = hex;
}

KeyMaterial::KeyMaterial(KeyMaterial&& other) noexcept : bytes_(other.bytes_), id_(std::move(other.id_)) {
  sodium_memzero(other.bytes_.data(), other.bytes_.size());
}

KeyMaterial& KeyMaterial::operator=(KeyMaterial&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    id_ = std::move(other.id_);
    sodium_memzero(other.bytes_.data(), other.bytes_.size());
  }
  return *this;
}

KeyMaterial::~KeyMaterial() { sodium_memzero(bytes_.data(), bytes_.size()); }

}  // namespace matih::runner
