// Files that other processes read while we write them (Prometheus's file_sd target files and
// rule files): a reader sees the old content or the new one, never half of it.
//
// StagedFile writes the content to a hidden temporary file in the destination's folder (named so
// Prometheus's *.json / *.yml patterns never match it) and flushes it; Install() renames it over
// the destination (atomic on POSIX), and a staged file never installed is deleted when the object
// goes away. Errors are PermanentError naming the path (a full or read-only disk needs an
// operator). One object per call; not shared between threads.
#pragma once

#include <optional>
#include <string>

namespace matih::plugins::observability {

class StagedFile {
 public:
  StagedFile(std::string destination, const std::string& content);
  ~StagedFile();
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;

  const std::string& path() const { return staged_; }
  void Install();

 private:
  std::string destination_, staged_;
  bool installed_ = false;
};

// The file's content, or nullopt when it does not exist.
std::optional<std::string> ReadFileIfExists(const std::string& path);
// Deletes the file; true when it existed.
bool DeleteFileIfExists(const std::string& path);
// Refuses (InvalidArgument naming `setting`) a folder that does not exist.
void RequireDirectory(const std::string& dir, const std::string& setting);

}  // namespace matih::plugins::observability
