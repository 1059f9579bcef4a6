#include "secrets/secret_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace matih::runner {
namespace {

// Wipes a buffer holding key material when the scope ends, whatever path it leaves by.
class WipeOnExit {
 public:
  WipeOnExit(void* data, std::size_t size) : data_(data), size_(size) {}
  ~WipeOnExit() { sodium_memzero(data_, size_); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  void* data_;
  std::size_t size_;
};

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Decodes exactly 64 hex characters (after trimming whitespace) into `out`.
bool DecodeHex(const char* text, std::size_t size, std::uint8_t* out) {
  while (size > 0 && IsSpace(text[0])) ++text, --size;
  while (size > 0 && IsSpace(text[size - 1])) --size;
  if (size != 2 * SecretKey::kSize) return false;
  std::size_t decoded = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(out, SecretKey::kSize, text, size, nullptr, &decoded, &end) != 0) return false;
  return decoded == SecretKey::kSize && end == text + size;
}

const char* kHowToMake =
    "; create one with: head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > FILE && chmod 600 FILE";

}  // namespace

// The id is a keyed hash of a fixed label, so it identifies the key without revealing it.
SecretKey::SecretKey(const std::uint8_t* bytes) : key_(bytes, "matih.secret-key-id.v1") {}

Result<SecretKey> SecretKey::FromHex(const std::string& hex, const std::string& source) {
  if (sodium_init() < 0) return Internal("libsodium could not be initialised");
  std::uint8_t bytes[kSize];
  WipeOnExit wipe(bytes, sizeof bytes);
  if (!DecodeHex(hex.data(), hex.size(), bytes)) {
    return FailedPrecondition("the secret key in " + source +
                              " is malformed: expected 64 hex characters (32 bytes)");
  }
  return SecretKey(bytes);
}

Result<SecretKey> SecretKey::FromEnvironment() {
  const char* value = std::getenv(kEnvVar);
  const std::string source = std::string("environment variable ") + kEnvVar;
  if (value == nullptr || *value == '\0') {
    return FailedPrecondition(std::string("no secret key: set ") + kEnvVar +
                              " to 64 hex characters or configure a key file" + kHowToMake);
  }
  std::string hex(value);
  auto key = FromHex(hex, source);
  sodium_memzero(hex.data(), hex.size());
  return key;
}

Result<SecretKey> SecretKey::FromFile(const std::string& path) {
  if (sodium_init() < 0) return Internal("libsodium could not be initialised");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return FailedPrecondition("cannot open secret key file " + path + ": " + std::strerror(errno) +
                              kHowToMake);
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};

  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return FailedPrecondition("cannot stat secret key file " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return FailedPrecondition("secret key file " + path + " is not a regular file");
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return FailedPrecondition("secret key file " + path + " has mode " + mode +
                              ": group and others must have no access; run chmod 600 " + path);
  }

  // Read at most a little more than the longest valid content, so a wrong file is refused fast.
  char buffer[2 * kSize + 64];
  WipeOnExit wipe_buffer(buffer, sizeof buffer);
  std::size_t size = 0;
  while (size < sizeof buffer) {
    ssize_t n = ::read(fd, buffer + size, sizeof buffer - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FailedPrecondition("cannot read secret key file " + path + ": " + std::strerror(errno));
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }

  std::uint8_t bytes[kSize];
  WipeOnExit wipe_bytes(bytes, sizeof bytes);
  if (DecodeHex(buffer, size, bytes)) return SecretKey(bytes);
  if (size == kSize) return SecretKey(reinterpret_cast<const std::uint8_t*>(buffer));
  return FailedPrecondition("secret key file " + path +
                            " is not a key: expected 32 raw bytes or 64 hex characters");
}

Result<SecretKey> SecretKey::Load(const std::optional<std::string>& path) {
  if (path && !path->empty()) return FromFile(*path);
  return FromEnvironment();
}

}  // namespace matih::runner
