// KeyMaterial: 32 bytes of key and their public fingerprint, wiped when they go away. The master
// key (SecretKey) and a tenant's data key (DataKey) both hold one, so the wiping on move and on
// destruction is written once.
//
// Thread safety: immutable after construction; any thread may read it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace matih::runner {

class KeyMaterial {
 public:
  static constexpr std::size_t kSize = 32;

  // Copies `bytes` (kSize of them). The fingerprint is a keyed hash of `id_label` (a fixed label
  // per kind of key), 16 hex characters, so it names the key without revealing it.
  KeyMaterial(const std::uint8_t* bytes, const char* id_label);

  KeyMaterial(const KeyMaterial&) = delete;
  KeyMaterial& operator=(const KeyMaterial&) = delete;
  // A moved-from key holds zeros.
  KeyMaterial(KeyMaterial&& other) noexcept;
  KeyMaterial& operator=(KeyMaterial&& other) noexcept;
  ~KeyMaterial();

  const std::uint8_t* data() const { return bytes_.data(); }
  const std::string& id() const { return id_; }

 private:
  std::array<std::uint8_t, kSize> bytes_{};
  std::string id_;
};

}  // namespace matih::runner
