#include "observability/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <matih/step.hpp>
#include <sstream>

#include "common/secure_token.h"

namespace matih::plugins::observability {
namespace fs = std::filesystem;

StagedFile::StagedFile(std::string destination, const std::string& content)
    : destination_(std::move(destination)) {
  const fs::path dest(destination_);
  staged_ = (dest.parent_path() / ("." + dest.filename().string() + "." + RandomBase62(8) + ".tmp")).string();
  const int fd = ::open(staged_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw PermanentError("cannot create " + staged_ + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(staged_.c_str());
      throw PermanentError("cannot write " + staged_ + ": " + why);
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) {
    ::unlink(staged_.c_str());
    throw PermanentError("cannot flush " + staged_);
  }
}

StagedFile::~StagedFile() {
  if (!installed_) ::unlink(staged_.c_str());
}

void StagedFile::Install() {
  if (::rename(staged_.c_str(), destination_.c_str()) != 0)
    throw PermanentError("cannot move " + staged_ + " to " + destination_ + ": " + std::strerror(errno));
  installed_ = true;
}

std::optional<std::string> ReadFileIfExists(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT || !fs::exists(path)) return std::nullopt;
    throw PermanentError("cannot read " + path + ": " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool DeleteFileIfExists(const std::string& path) {
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  throw PermanentError("cannot delete " + path + ": " + std::strerror(errno));
}

void RequireDirectory(const std::string& dir, const std::string& setting) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InvalidArgument("setting targets." + setting + " is not a folder: " + dir);
}

}  // namespace matih::plugins::observability
