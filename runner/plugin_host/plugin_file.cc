#include "plugin_host/plugin_file.h"

#include <elf.h>
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

Status PluginFile::CheckElf() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0)
    return FailedPrecondition("cannot stat plugin " + path_ + ": " + std::strerror(errno));
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  auto read_at = [this](void* out, size_t n, uint64_t offset) {
    return ::pread(fd_, out, n, static_cast<off_t>(offset)) == static_cast<ssize_t>(n);
  };
  auto refuse = [this, size](const std::string& why) {
    return InvalidArgument("plugin " + path_ + " is not a loadable shared library (" + why + ", file of " +
                           std::to_string(size) + " bytes): rebuild or reinstall it");
  };
  Elf64_Ehdr eh{};
  if (size < sizeof eh || !read_at(&eh, sizeof eh, 0)) return refuse("shorter than an ELF header");
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return refuse("no ELF signature");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
    return refuse("not a 64-bit little-endian ELF file");
  if (eh.e_type != ET_DYN) return refuse("not a shared object");
#if defined(__x86_64__)
  if (eh.e_machine != EM_X86_64)
    return refuse("built for another machine (e_machine " + std::to_string(eh.e_machine) + ")");
#elif defined(__aarch64__)
  if (eh.e_machine != EM_AARCH64)
    return refuse("built for another machine (e_machine " + std::to_string(eh.e_machine) + ")");
#endif
  auto fits = [size](uint64_t offset, uint64_t count, uint64_t entry) {
    return offset <= size && (entry == 0 || count <= (size - offset) / entry);
  };
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
      !fits(eh.e_phoff, eh.e_phnum, eh.e_phentsize))
    return refuse("its program headers lie outside the file");
  if (eh.e_shnum != 0 && !fits(eh.e_shoff, eh.e_shnum, eh.e_shentsize))
    return refuse("its section headers lie outside the file (truncated?)");
  for (uint16_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    if (!read_at(&ph, sizeof ph, eh.e_phoff + uint64_t{i} * sizeof ph))
      return refuse("unreadable program header");
    if (ph.p_type == PT_LOAD && (ph.p_offset > size || ph.p_filesz > size - ph.p_offset))
      return refuse("segment " + std::to_string(i) + " ends at byte " +
                    std::to_string(ph.p_offset + ph.p_filesz) + ", past the end of the file (truncated?)");
  }
  return Status::Ok();
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
