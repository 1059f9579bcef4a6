#include "common/key_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <matih/step.hpp>

namespace matih::plugins {
namespace {

constexpr std::size_t kMaxKeyFileSize = 4096;

bool IsHex(std::string_view s) {
  if (s.empty() || s.size() % 2 != 0) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// Padded standard base64 (RFC 4648 section 4): the decoded size, or 0 when `s` is not base64.
std::size_t Base64Bytes(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) return 0;
  std::size_t pad = 0;
  while (pad < 2 && s[s.size() - 1 - pad] == '=') ++pad;
  for (std::size_t i = 0; i < s.size() - pad; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!std::isalnum(c) && c != '+' && c != '/') return 0;
  }
  return s.size() / 4 * 3 - pad;
}

std::string Mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

}  // namespace

std::size_t KeyFileBytes(std::string_view content) {
  if (IsHex(content)) return content.size() / 2;
  if (std::size_t n = Base64Bytes(content); n > 0) return n;
  return content.size();
}

std::string ReadKeyFile(const std::string& setting, const std::string& path) {
  const std::string what = setting + ": key file " + path;
  if (path.empty()) throw PermanentError(setting + ": empty path of a key file");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw PermanentError(what + " cannot be opened: " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw PermanentError(what + " cannot be read: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw PermanentError(what + " is not a regular file");
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    throw PermanentError(what + " has mode " + Mode(st.st_mode) +
                         ": group and others must have no access; run chmod 600 " + path);
  if (static_cast<std::size_t>(st.st_size) > kMaxKeyFileSize)
    throw PermanentError(what + " is " + std::to_string(st.st_size) +
                         " bytes: too large to be a key (at most 4096)");

  char buffer[kMaxKeyFileSize + 1];
  std::size_t size = 0;
  while (size < sizeof buffer) {
    ssize_t n = ::read(fd, buffer + size, sizeof buffer - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      sodium_memzero(buffer, sizeof buffer);
      throw PermanentError(what + " cannot be read: " + std::strerror(error));
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  std::string_view content(buffer, size);
  while (!content.empty() && std::isspace(static_cast<unsigned char>(content.front())))
    content.remove_prefix(1);
  while (!content.empty() && std::isspace(static_cast<unsigned char>(content.back())))
    content.remove_suffix(1);
  const bool hex = IsHex(content);
  const std::size_t bytes = KeyFileBytes(content);
  const std::size_t chars = content.size();
  std::string key(content);
  sodium_memzero(buffer, sizeof buffer);
  if (size > kMaxKeyFileSize) {
    sodium_memzero(key.data(), key.size());
    throw PermanentError(what + " is too large to be a key (at most 4096 bytes)");
  }
  if (bytes < kMinKeyFileBytes) {
    sodium_memzero(key.data(), key.size());
    const std::string held =
        chars == 0 ? "is empty"
        : hex ? "holds " + std::to_string(chars) + " hex digits, a key of " + std::to_string(bytes) + " bytes"
              : "holds a key of " + std::to_string(bytes) + " bytes";
    throw PermanentError(what + " " + held + "; at least " + std::to_string(kMinKeyFileBytes) +
                         " bytes are needed (64 hex digits)");
  }
  return key;
}

}  // namespace matih::plugins
