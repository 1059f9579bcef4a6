#include "terraform/process_group.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace matih::plugins::terraform {
namespace {

using Clock = std::chrono::system_clock;

struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    if (read >= 0) close(read);
    if (write >= 0) close(write);
  }
  void CloseWrite() {
    if (write >= 0) close(write);
    write = -1;
  }
  void CloseRead() {
    if (read >= 0) close(read);
    read = -1;
  }
};

// Splits a stream into lines; the last partial line is flushed at the end.
class LineSplitter {
 public:
  LineSplitter(const ProcessOptions& options, bool is_stderr) : options_(options), is_stderr_(is_stderr) {}
  void Feed(const char* data, size_t size) {
    buffer_.append(data, size);
    size_t start = 0;
    for (size_t nl; (nl = buffer_.find('\n', start)) != std::string::npos; start = nl + 1)
      Emit(buffer_.substr(start, nl - start));
    buffer_.erase(0, start);
    if (buffer_.size() > 64 * 1024) {  // a line that never ends: pass it on in pieces
      Emit(buffer_);
      buffer_.clear();
    }
  }
  void Flush() {
    if (!buffer_.empty()) Emit(buffer_);
    buffer_.clear();
  }

 private:
  void Emit(const std::string& line) {
    if (options_.on_line) options_.on_line(line, is_stderr_);
  }
  const ProcessOptions& options_;
  bool is_stderr_;
  std::string buffer_;
};

}  // namespace

ProcessResult RunInProcessGroup(const ProcessOptions& options) {
  Pipe out, err;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out.write, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);  // a new group led by the child
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv{const_cast<char*>(options.program.c_str())};
  for (const auto& a : options.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : options.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int rc = posix_spawn(&pid, options.program.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "start " + options.program);
  out.CloseWrite();
  err.CloseWrite();

  ProcessResult result;
  result.pgid = pid;
  LineSplitter out_lines(options, false), err_lines(options, true);
  Clock::time_point term_sent{};
  bool killed = false;
  bool exited = false;
  int status = 0;
  Clock::time_point exited_at{};

  while (true) {
    pollfd fds[2];
    nfds_t n = 0;
    if (out.read >= 0) fds[n++] = {out.read, POLLIN, 0};
    if (err.read >= 0) fds[n++] = {err.read, POLLIN, 0};
    if (n > 0) {
      if (poll(fds, n, 100) > 0) {
        for (nfds_t i = 0; i < n; ++i) {
          if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
          char chunk[8192];
          const ssize_t got = read(fds[i].fd, chunk, sizeof chunk);
          const bool is_out = fds[i].fd == out.read;
          if (got > 0) {
            (is_out ? out_lines : err_lines).Feed(chunk, static_cast<size_t>(got));
          } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
            if (is_out)
              out.CloseRead();
            else
              err.CloseRead();
          }
        }
      }
    } else if (!exited) {
      usleep(20 * 1000);
    }
    siginfo_t info{};
    if (!exited && waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      // Whatever the child left behind in its group (a provisioner's shell) goes with it; the
      // child is reaped only afterwards, so the group id cannot have been reused.
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      exited = true;
      exited_at = Clock::now();
    }
    if (exited && ((out.read < 0 && err.read < 0) || Clock::now() - exited_at > std::chrono::seconds(2)))
      break;
    if (exited) continue;

    const auto now = Clock::now();
    if (result.stopped.empty()) {
      std::string reason = options.should_stop ? options.should_stop() : std::string();
      if (reason.empty() && now >= options.deadline) reason = "deadline";
      if (!reason.empty()) {
        result.stopped = reason;
        term_sent = now;
        kill(-pid, SIGTERM);
      }
    } else if (!killed && now - term_sent >= options.grace) {
      killed = true;
      kill(-pid, SIGKILL);
    }
  }
  out_lines.Flush();
  err_lines.Flush();
  if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.exit_code = 128 + WTERMSIG(status);
  return result;
}

}  // namespace matih::plugins::terraform
