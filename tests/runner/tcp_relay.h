// Relay: a TCP relay in front of the real PostgreSQL of the stack, for tests of a database lost
// mid-run. Cut() drops every relayed connection and refuses new ones (accepted, then closed at
// once) until Restore(): a database that restarts or a network that fails, without disturbing
// the shared server. CutAfterCommit() cuts one connection with its commit in doubt. Header-only;
// Cut/Restore/CutAfterCommit may be called from any thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace matih::testing {

class Relay {
 public:
  Relay(std::string host, int port) : host_(std::move(host)), port_(port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(listen_fd_, 64);
    socklen_t len = sizeof a;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    relay_port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~Relay() {
    stopping_ = true;
    Cut();
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    acceptor_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : pumps_) t.join();
    for (int fd : open_) close(fd);
  }
  int port() const { return relay_port_; }
  void Cut() {
    down_ = true;
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_) shutdown(fd, SHUT_RDWR);
  }
  void Restore() { down_ = false; }
  // The next COMMIT a client sends reaches the server, but its answer never comes back: that
  // connection is cut while the commit's outcome is unknown to the client (in doubt).
  void CutAfterCommit() { cut_after_commit_ = true; }

 private:
  void Accept() {
    for (;;) {
      int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) return;
      if (stopping_ || down_) {
        close(client);
        continue;
      }
      int server = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(port_));
      inet_pton(AF_INET, host_.c_str(), &a.sin_addr);
      if (connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(client);
        close(server);
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      open_.push_back(client);
      open_.push_back(server);
      pumps_.emplace_back([this, client, server] { Pump(client, server); });
    }
  }
  void Pump(int a, int b) {
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    char buf[16384];
    for (;;) {
      if (poll(fds, 2, 200) < 0) break;
      bool closed = false;
      for (int i = 0; i < 2 && !closed; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n <= 0 || send(fds[1 - i].fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) closed = true;
        if (!closed && i == 0 && cut_after_commit_ && memmem(buf, static_cast<size_t>(n), "COMMIT", 6) &&
            cut_after_commit_.exchange(false)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the server commits meanwhile
          closed = true;
        }
      }
      if (closed) break;
    }
    shutdown(a, SHUT_RDWR);
    shutdown(b, SHUT_RDWR);
  }

  std::string host_;
  int port_;
  int listen_fd_ = -1;
  int relay_port_ = 0;
  std::atomic<bool> down_{false}, stopping_{false}, cut_after_commit_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> open_;
  std::vector<std::thread> pumps_;
};

// Host and port of a postgresql:// URL ("" and 0 when it has none).
inline std::pair<std::string, int> HostPort(const std::string& url) {
  std::smatch m;
  std::regex re(R"(@([0-9.]+|localhost):([0-9]+)/)");
  if (!std::regex_search(url, m, re)) return {"", 0};
  return {m[1].str() == "localhost" ? "127.0.0.1" : m[1].str(), std::stoi(m[2].str())};
}

// The same URL, connecting through the relay listening on `port`.
inline std::string ThroughRelay(const std::string& url, int port) {
  return std::regex_replace(url, std::regex(R"(@([0-9.]+|localhost):([0-9]+)/)"),
                            "@127.0.0.1:" + std::to_string(port) + "/");
}

}  // namespace matih::testing
