#include "chaos/lost_replies_tally.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace matih::testing {
namespace fs = std::filesystem;

namespace {

// Holds an exclusive flock on a file for its lifetime.
class FileLock {
 public:
  explicit FileLock(const fs::path& path) : fd_(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644)) {
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) throw std::runtime_error("cannot lock " + path.string());
  }
  ~FileLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

void WriteAtomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text << "\n";
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

}  // namespace

LostRepliesTally::LostRepliesTally(std::string dir) : dir_(std::move(dir)) {
  fs::create_directories(fs::path(dir_) / "lost_replies.d");
}

std::string LostRepliesTally::Summary() const {
  nlohmann::json sum = {{"scenario", "lost-replies"},
                        {"runs", 0},
                        {"converged", 0},
                        {"duplicates", 0},
                        {"lost", 0},
                        {"crashes", 0}};
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(dir_) / "lost_replies.d"))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  for (const auto& file : files) {
    std::ifstream in(file);
    nlohmann::json record = nlohmann::json::parse(in, nullptr, false);
    if (record.is_discarded()) continue;
    for (const char* key : {"runs", "converged", "duplicates", "lost", "crashes"})
      sum[key] = sum[key].get<int>() + record.value(key, 0);
  }
  return sum.dump();
}

void LostRepliesTally::Record(const std::string& name, const LostReplyOutcome& outcome) const {
  if (name.empty() ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
          std::string::npos)
    throw std::invalid_argument("bad record name '" + name + "'");
  FileLock lock(fs::path(dir_) / "lost_replies.lock");
  nlohmann::json record = {{"case", name},
                           {"runs", outcome.runs},
                           {"converged", outcome.converged},
                           {"duplicates", outcome.duplicates},
                           {"lost", outcome.lost},
                           {"crashes", outcome.crashes},
                           {"detail", outcome.detail}};
  WriteAtomically(fs::path(dir_) / "lost_replies.d" / (name + ".json"), record.dump());
  WriteAtomically(fs::path(dir_) / "lost_replies.json", Summary());
}

}  // namespace matih::testing
