#include "plugin_host/plugin_file.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace matih::runner {
namespace {

std::string Mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// The shared trust rule for a file or directory we are about to run code from.
Status CheckOwnerAndMode(const std::string& what, const std::string& path, const struct stat& st) {
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return FailedPrecondition(what + " " + path + " is writable by group or others (mode " +
                              Mode(st.st_mode) + "): refusing to load plugins from it; run chmod go-w " +
                              path);
  }
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    return FailedPrecondition(what + " " + path + " is owned by uid " + std::to_string(st.st_uid) +
                              ", neither root nor the runner's user (uid " + std::to_string(::geteuid()) +
                              "): refusing to load plugins from it");
  }
  return Status::Ok();
}

}  // namespace

Status CheckPluginDirectory(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return FailedPrecondition("plugin directory " + dir + " cannot be read: " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return FailedPrecondition("plugin directory " + dir + " is not a directory");
  return CheckOwnerAndMode("plugin directory", dir, st);
}

Result<PluginFile> PluginFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FailedPrecondition("cannot open plugin " + path + ": " + std::strerror(errno));
  return PluginFile(path, fd);
}

PluginFile::PluginFile(PluginFile&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) {
  other.fd_ = -1;
}

PluginFile::~PluginFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status PluginFile::CheckPermissions() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0)
    return FailedPrecondition("cannot stat plugin " + path_ + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return FailedPrecondition("plugin " + path_ + " is not a regular file");
  return CheckOwnerAndMode("plugin", path_, st);
}

Result<std::string> PluginFile::Sha256() const {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) {
    return Internal("OpenSSL could not start a SHA-256 digest");
  }
  unsigned char buffer[64 * 1024];
  off_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(fd_, buffer, sizeof buffer, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FailedPrecondition("cannot read plugin " + path_ + ": " + std::strerror(errno));
    if (n == 0) break;
    if (EVP_DigestUpdate(md.get(), buffer, static_cast<size_t>(n)) != 1)
      return Internal("SHA-256 update failed");
    offset += n;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(md.get(), digest, &size) != 1) return Internal("SHA-256 final failed");
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

Status PluginFile::SameFileAtPath() const {
  struct stat opened {};
  struct stat now {};
  if (::fstat(fd_, &opened) != 0 || ::stat(path_.c_str(), &now) != 0 || opened.st_dev != now.st_dev ||
      opened.st_ino != now.st_ino) {
    return FailedPrecondition("plugin " + path_ + " was replaced while it was being loaded");
  }
  return Status::Ok();
}

}  // namespace matih::runner
