#include "network/local_nginx.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "common/settings.h"

namespace matih::plugins::network {
namespace {

std::mutex& ChangeMutex() {
  static std::mutex mu;
  return mu;
}

void WriteAtomically(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw PermanentError("cannot write " + tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw PermanentError("cannot rename " + tmp + " to " + path);
}

void Put(const std::string& path, const std::optional<std::string>& content) {
  if (content) {
    WriteAtomically(path, *content);
  } else {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
}

// Holds the flock of <prefix>/tenants/.lock while alive.
class FileLock {
 public:
  explicit FileLock(const std::string& path) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw PermanentError("cannot open the nginx lock file " + path);
    if (::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      throw PermanentError("cannot lock " + path);
    }
  }
  ~FileLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

// The pids of the processes whose parent is `master` (nginx's workers), from /proc.
std::set<int> ChildrenOf(int master) {
  std::set<int> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 1));
    std::string state;
    int ppid = 0;
    if (fields >> state >> ppid && ppid == master && state != "Z") out.insert(std::stoi(name));
  }
  return out;
}

int MasterPid(const std::string& prefix) {
  std::ifstream in(prefix + "/nginx.pid");
  int pid = 0;
  return in >> pid ? pid : 0;
}

std::string LastLines(const std::string& text) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t.size() > 400 ? "..." + t.substr(t.size() - 400) : t;
}

}  // namespace

int RunProgram(const std::vector<std::string>& argv, std::string* output) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw PermanentError("cannot create a pipe to run " + argv.front());
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    throw PermanentError("cannot start " + argv.front());
  }
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::optional<NginxOptions> LocalNginx::FromSettings(const Context& ctx) {
  auto prefix = ctx.setting("network.nginx_prefix");
  if (!prefix || prefix->empty()) return std::nullopt;
  NginxOptions o;
  o.prefix = std::filesystem::absolute(*prefix).lexically_normal().string();
  while (o.prefix.size() > 1 && o.prefix.back() == '/') o.prefix.pop_back();
  o.binary = SettingOr(ctx, "network.nginx_bin", "nginx");
  o.listen_address = SettingOr(ctx, "network.nginx_listen_address", "127.0.0.1");
  auto port = [&](const char* key) {
    long long p = ParseCount(key, ctx.required_setting(key));
    if (p <= 0 || p > 65535) throw InvalidArgument(std::string("setting ") + key + " is not a TCP port");
    return static_cast<int>(p);
  };
  o.http_port = port("network.nginx_http_port");
  o.https_port = port("network.nginx_https_port");
  return o;
}

std::string LocalNginx::ServerFile(const std::string& slug) const {
  return options_.prefix + "/tenants/" + slug + ".conf";
}
std::string LocalNginx::IncludeDir(const std::string& slug) const {
  return options_.prefix + "/tenants/" + slug + ".d";
}
std::string LocalNginx::TlsFile(const std::string& slug) const { return IncludeDir(slug) + "/tls.conf"; }

std::optional<std::string> LocalNginx::Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool LocalNginx::Change(const std::vector<std::pair<std::string, std::optional<std::string>>>& files,
                        const std::vector<std::string>& also_remove_dirs, bool force) const {
  std::lock_guard<std::mutex> guard(ChangeMutex());
  FileLock lock(options_.prefix + "/tenants/.lock");
  std::vector<std::pair<std::string, std::optional<std::string>>> previous;
  for (const auto& [path, content] : files) {
    auto now = Read(path);
    if (now != content) previous.emplace_back(path, now);
  }
  if (previous.empty() && !force) return false;
  for (const auto& [path, content] : files) Put(path, content);
  for (const auto& dir : also_remove_dirs) {
    std::error_code ec;
    std::filesystem::remove(dir, ec);  // only when empty
  }
  const std::string conf = options_.prefix + "/nginx.conf";
  std::string out;
  int rc = RunProgram({options_.binary, "-t", "-q", "-p", options_.prefix + "/", "-c", conf}, &out);
  if (rc != 0) {
    for (const auto& [path, content] : previous) Put(path, content);
    if (rc == 127) throw PermanentError("cannot run " + options_.binary + " (setting network.nginx_bin)");
    throw PermanentError("nginx refused the tenant's configuration (rolled back): " + LastLines(out));
  }
  const int master = MasterPid(options_.prefix);
  const std::set<int> old_workers = master > 0 ? ChildrenOf(master) : std::set<int>{};
  rc = RunProgram({options_.binary, "-p", options_.prefix + "/", "-c", conf, "-s", "reload"}, &out);
  if (rc != 0)
    throw TransientError("nginx at " + options_.prefix +
                         " did not reload (is it running?): " + LastLines(out));
  // Until the old workers are gone they may still accept connections with the old servers: wait
  // for them (they leave at once when idle), so what the caller checks next is the new state.
  for (int i = 0; i < 50 && !old_workers.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto now = ChildrenOf(master);
    bool old_left = true;
    for (int pid : old_workers) old_left = old_left && !now.count(pid);
    if (old_left && !now.empty()) break;
  }
  return true;
}

}  // namespace matih::plugins::network
