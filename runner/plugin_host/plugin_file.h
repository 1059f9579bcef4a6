// PluginFile: one candidate plugin file, opened once, then checked and hashed through that one
// descriptor. The loader is handed the path (a /proc/self/fd name would be reused by the next
// file and confuse the loader's by-name cache); SameFileAtPath confirms the path still names the
// file that was checked, just before and after the load. Replacing it in between needs write
// access to a directory that passed CheckPluginDirectory, i.e. root or the runner's own user.
//
// Also CheckPluginDirectory, the same trust rule for the directories plugins come from: nothing
// group- or other-writable, nothing owned by a user other than root or the runner's own.
//
// Thread safety: none needed; the PluginHost uses these from its one loading thread.
#pragma once

#include <string>

#include "common/status.h"

namespace matih::runner {

// FailedPrecondition when `dir` is missing, not a directory, or writable by someone other than
// its owner (and that owner is root or the runner's user).
Status CheckPluginDirectory(const std::string& dir);

class PluginFile {
 public:
  static Result<PluginFile> Open(const std::string& path);
  PluginFile(PluginFile&& other) noexcept;
  PluginFile& operator=(PluginFile&&) = delete;
  PluginFile(const PluginFile&) = delete;
  ~PluginFile();

  const std::string& path() const { return path_; }
  // FailedPrecondition when the file is not a regular file, is group- or other-writable, or is
  // owned by another user than root or the runner's.
  Status CheckPermissions() const;
  // Lowercase hex SHA-256 of the content.
  Result<std::string> Sha256() const;
  // FailedPrecondition when path() now names another file than the one opened.
  Status SameFileAtPath() const;
  // InvalidArgument unless the file is a complete 64-bit little-endian ELF shared object of this
  // machine: every header table and every loadable segment lies inside the file. The dynamic
  // loader maps a truncated file without complaint and the runner then dies of SIGBUS on the first
  // page past its end; this check turns that into a message naming the file.
  Status CheckElf() const;

 private:
  PluginFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
};

}  // namespace matih::runner
