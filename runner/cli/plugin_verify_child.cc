#include "cli/plugin_verify_child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "isolation/protocol.h"

namespace matih::runner {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// What the child writes first: 'R' and the report as JSON, or 'E' and an error message. A dying
// child appends kMapsMarker and its /proc/self/maps.
constexpr char kMapsMarker[] = "\n--matih-verify-maps--\n";
// A pin no file can match (not hex): the host refuses the pinned file before mapping it.
constexpr char kNeverMatches[] = "refused-after-a-crash";

// The child's crash path: only async-signal-safe calls.
int g_report_fd = -1;
alignas(16) char g_alt_stack[64 * 1024];

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void WriteMaps() {
  if (g_report_fd < 0) return;
  WriteAll(g_report_fd, kMapsMarker, sizeof kMapsMarker - 1);
  int fd = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    WriteAll(g_report_fd, buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  g_report_fd = -1;
}

void OnFatalSignal(int sig) {
  WriteMaps();
  ::raise(sig);  // SA_RESETHAND restored the default action: the child dies of `sig`
}

void OnExit() { WriteMaps(); }

void InstallCrashHandlers() {
  stack_t stack{};
  stack.ss_sp = g_alt_stack;
  stack.ss_size = sizeof g_alt_stack;
  ::sigaltstack(&stack, nullptr);  // a stack overflow still gets its handler
  struct sigaction action {};
  action.sa_handler = OnFatalSignal;
  action.sa_flags = SA_RESETHAND | SA_NODEFER | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP})
    ::sigaction(sig, &action, nullptr);
  std::atexit(OnExit);  // a plugin that calls exit() while loading
}

json StatusJson(const Status& s) { return {{"code", static_cast<int>(s.code())}, {"message", s.message()}}; }
Status StatusFrom(const json& j) {
  const int code = j.value("code", 0);
  if (code == 0) return Status::Ok();
  return Status(static_cast<Code>(code), j.value("message", ""));
}

json ReportJson(const PluginVerifyReport& r) {
  json verdicts = json::array(), plugins = json::array();
  for (const auto& v : r.verdicts)
    verdicts.push_back({{"file", v.file}, {"builtin", v.builtin}, {"ok", v.ok}, {"reason", v.reason}});
  for (const auto& p : r.plugins) plugins.push_back(isolation::ToJson(p));
  return {{"verdicts", verdicts},
          {"plugins", plugins},
          {"catalog", StatusJson(r.catalog)},
          {"settings", StatusJson(r.settings)},
          {"key_files", StatusJson(r.key_files)},
          {"warnings", r.warnings}};
}

PluginVerifyReport ReportFrom(const json& j) {
  PluginVerifyReport r;
  for (const auto& v : j.at("verdicts"))
    r.verdicts.push_back(
        {v.value("file", ""), v.value("builtin", false), v.value("ok", false), v.value("reason", "")});
  for (const auto& p : j.at("plugins")) r.plugins.push_back(isolation::PluginInfoFromJson(p));
  r.catalog = StatusFrom(j.at("catalog"));
  r.settings = StatusFrom(j.at("settings"));
  r.key_files = StatusFrom(j.at("key_files"));
  r.warnings = j.value("warnings", std::vector<std::string>{});
  return r;
}

// The candidate files in the order PluginHost::Load takes them: built-in directories first (in
// their configured order), then the others; each directory's *.so files sorted; canonical paths,
// each once.
std::vector<std::string> LoadOrder(const PluginHostOptions& options) {
  std::set<std::string> builtin;
  for (const auto& dir : options.builtin_dirs) {
    std::error_code ec;
    fs::path real = fs::canonical(dir, ec);
    if (!ec) builtin.insert(real.string());
  }
  auto is_builtin = [&](const std::string& dir) {
    std::error_code ec;
    fs::path real = fs::canonical(dir, ec);
    return !ec && builtin.count(real.string()) > 0;
  };
  std::vector<std::string> dirs = options.plugin_dirs;
  std::stable_partition(dirs.begin(), dirs.end(), is_builtin);
  std::vector<std::string> order;
  std::set<std::string> seen;
  for (const auto& dir : dirs) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".so") files.push_back(it->path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::error_code real_ec;
      fs::path real = fs::canonical(f, real_ec);
      const std::string name = real_ec ? f.string() : real.string();
      if (seen.insert(name).second) order.push_back(name);
    }
  }
  return order;
}

// The file the child was loading: the last candidate, in load order, that its map shows.
std::string FileBeingLoaded(const std::string& maps, const std::vector<std::string>& order) {
  std::set<std::string> mapped;
  std::istringstream in(maps);
  std::string line;
  while (std::getline(in, line)) {
    auto slash = line.find('/');
    if (slash != std::string::npos) mapped.insert(line.substr(slash));
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it)
    if (mapped.count(*it)) return *it;
  return {};
}

struct ChildOutcome {
  bool complete = false;  // the child sent its report
  std::string report;     // 'R'/'E' and the text
  std::string maps;       // the dying child's memory map
  std::string death;      // why the child ended without a report: the verdict's reason
};

ChildOutcome RunChild(const PluginHostOptions& options, const PluginVerifyChecks& checks, Millis timeout) {
  ChildOutcome outcome;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    outcome.death = std::string("cannot make a pipe: ") + std::strerror(errno);
    return outcome;
  }
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = ::fork();
  if (pid < 0) {
    outcome.death = std::string("cannot fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return outcome;
  }
  if (pid == 0) {
    ::close(fds[0]);
    g_report_fd = fds[1];
    InstallCrashHandlers();
    std::string out;
    try {
      auto loaded = PluginHost::Load(options);
      if (!loaded.ok()) {
        out = "E" + StatusJson(loaded.status()).dump();
      } else {
        PluginVerifyReport report;
        report.verdicts = (*loaded)->verdicts();
        report.plugins = (*loaded)->plugins();
        checks(**loaded, report);
        out = "R" + ReportJson(report).dump();
      }
    } catch (const std::exception& e) {
      out = "E" + StatusJson(Internal(std::string("plugins verify: ") + e.what())).dump();
    }
    const int fd = g_report_fd;
    g_report_fd = -1;  // the report is whole: no map after it
    WriteAll(fd, out.data(), out.size());
    ::_exit(0);  // no destructors, no atexit: the plugins' state dies with the child
  }

  ::close(fds[1]);
  std::string received;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buffer[65536];
    ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    received.append(buffer, static_cast<size_t>(n));
  }
  if (timed_out) {
    std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
    std::stringstream text;
    text << maps.rdbuf();
    outcome.maps = text.str();
    ::kill(pid, SIGKILL);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    outcome.death = "did not finish loading within " + FormatDuration(timeout) + " (killed)";
    return outcome;
  }
  const auto marker = received.find(kMapsMarker);
  if (marker != std::string::npos) {
    outcome.maps = received.substr(marker + sizeof kMapsMarker - 1);
    received.resize(marker);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && marker == std::string::npos && !received.empty()) {
    outcome.complete = true;
    outcome.report = std::move(received);
    return outcome;
  }
  if (WIFSIGNALED(status))
    outcome.death = "crashed while loading (signal " + std::to_string(WTERMSIG(status)) + ")";
  else
    outcome.death =
        "ended the process while loading (exit status " + std::to_string(WEXITSTATUS(status)) + ")";
  return outcome;
}

}  // namespace

Result<PluginVerifyReport> VerifyPluginsInChild(PluginHostOptions options, const PluginVerifyChecks& checks,
                                                Millis timeout) {
  options.keep_going = true;
  options.workers.enabled = false;
  const std::vector<std::string> order = LoadOrder(options);
  std::map<std::string, std::string> died;  // file -> why its loading process ended
  for (size_t attempt = 0; attempt <= order.size(); ++attempt) {
    PluginHostOptions attempt_options = options;
    for (const auto& [file, why] : died) attempt_options.sha256_pins[file] = kNeverMatches;
    ChildOutcome outcome = RunChild(attempt_options, checks, timeout);
    if (outcome.complete) {
      json j = json::parse(outcome.report.substr(1), nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.is_object())
        return Internal("plugins verify: the loading process sent no report");
      if (outcome.report[0] == 'E') return StatusFrom(j);
      try {
        PluginVerifyReport report = ReportFrom(j);
        for (auto& v : report.verdicts) {
          if (auto it = died.find(v.file); it != died.end()) {
            v.ok = false;
            v.reason = it->second;
          }
        }
        return report;
      } catch (const json::exception& e) {
        return Internal(std::string("plugins verify: unreadable report from the loading process: ") +
                        e.what());
      }
    }
    const std::string file = FileBeingLoaded(outcome.maps, order);
    if (file.empty() || died.count(file)) {
      return Internal("plugins verify: the process loading the plugins " + outcome.death +
                      (file.empty() ? ", before any plugin file was mapped" : " again at " + file));
    }
    died[file] = outcome.death;
  }
  return Internal("plugins verify: every plugin file ended its loading process");
}

}  // namespace matih::runner
