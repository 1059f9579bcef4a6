#include "fakes/fault_proxy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <stdexcept>

namespace matih::testing {

using Clock = std::chrono::steady_clock;

struct FaultProxy::Conn {
  int client = -1;
  int server = -1;
  std::string tail;  // the end of the client's last chunks, to match a marker across chunks
  bool faulted = false;
  Rule rule;
  size_t passed = 0;             // reply bytes let through since the trigger
  bool fired = false;            // the fault took effect on this connection
  Clock::time_point fired_at{};  // when (kDrop closes the connection `hold` after it)
  bool broken = false;           // lost bytes to a DropRepliesFor window
  std::deque<std::pair<Clock::time_point, std::string>> late;  // kDelay: replies held back
};

namespace {

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

int ConnectTo(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

}  // namespace

std::pair<std::string, int> SplitHostPort(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == host_port.size())
    throw std::invalid_argument("expected host:port, got '" + host_port + "'");
  const std::string port = host_port.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5)
    throw std::invalid_argument("bad port in '" + host_port + "'");
  const int p = std::stoi(port);
  if (p <= 0 || p > 65535) throw std::invalid_argument("bad port in '" + host_port + "'");
  return {host_port.substr(0, colon), p};
}

FaultProxy::FaultProxy(std::string target_host, int target_port, int listen_port)
    : target_host_(std::move(target_host)), target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error(std::string("fault proxy: socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(listen_port));
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 128) != 0) {
    const std::string why = std::strerror(errno);
    ::close(listen_fd_);
    throw std::runtime_error("fault proxy: cannot listen on 127.0.0.1:" + std::to_string(listen_port) + ": " +
                             why);
  }
  socklen_t len = sizeof a;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  CutAll();
  std::vector<std::thread> pumps;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pumps.swap(pumps_);
  }
  for (auto& t : pumps) t.join();
}

void FaultProxy::Arm(const Rule& rule) {
  std::lock_guard<std::mutex> lock(mu_);
  rule_ = rule;
  match_count_ = 0;
  fire_left_ = rule.fault == Fault::kNone ? 0 : std::max(1, rule.times);
  matched_ = 0;
}

void FaultProxy::DropRepliesFor(std::chrono::milliseconds window) {
  std::lock_guard<std::mutex> lock(mu_);
  window_end_ = Clock::now() + window;
}

void FaultProxy::CutAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& weak : conns_)
    if (auto c = weak.lock()) {
      ::shutdown(c->client, SHUT_RDWR);
      ::shutdown(c->server, SHUT_RDWR);
    }
}

void FaultProxy::AcceptLoop() {
  for (;;) {
    int client = ::accept(listen_fd_, nullptr, nullptr);
    if (client < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    if (stopping_) {
      ::close(client);
      return;
    }
    int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const int server = ConnectTo(target_host_, target_port_);
    if (server < 0) {  // the target is down: so is the proxy, for this client
      ::close(client);
      continue;
    }
    ++connections_;
    auto conn = std::make_shared<Conn>();
    conn->client = client;
    conn->server = server;
    std::lock_guard<std::mutex> lock(mu_);
    conns_.erase(std::remove_if(conns_.begin(), conns_.end(), [](auto& w) { return w.expired(); }),
                 conns_.end());
    conns_.push_back(conn);
    pumps_.emplace_back([this, conn] { Pump(conn); });
  }
}

bool FaultProxy::Triggers(Conn& conn, const char* data, size_t n, Rule* fired_rule) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fire_left_ <= 0) {
    conn.tail.clear();
    return false;
  }
  bool hit = rule_.marker.empty();
  if (!hit) {
    std::string window = conn.tail + std::string(data, n);
    hit = window.find(rule_.marker) != std::string::npos;
    const size_t keep = rule_.marker.size() - 1;
    conn.tail = hit ? "" : window.substr(window.size() > keep ? window.size() - keep : 0);
  }
  if (!hit) return false;
  ++matched_;
  if (++match_count_ < rule_.nth) return false;
  --fire_left_;
  *fired_rule = rule_;
  return true;
}

void FaultProxy::Pump(std::shared_ptr<Conn> conn) {
  Conn& c = *conn;
  char buf[16384];
  bool open = true;
  bool cut = false;  // closed by a fault: reset the client instead of a clean close
  while (open && !stopping_) {
    const auto now = Clock::now();
    Clock::time_point window_end;
    {
      std::lock_guard<std::mutex> lock(mu_);
      window_end = window_end_;
    }
    // Timers: a broken stream after its window, a held connection after `hold`, late replies.
    if (c.broken && now >= window_end) break;
    if (c.fired && c.rule.fault == Fault::kDrop && c.rule.hold.count() > 0 &&
        now >= c.fired_at + c.rule.hold) {
      cut = true;
      break;
    }
    while (!c.late.empty() && c.late.front().first <= now) {
      if (!WriteAll(c.client, c.late.front().second.data(), c.late.front().second.size())) open = false;
      c.late.pop_front();
    }
    if (!open) break;

    pollfd fds[2] = {{c.client, POLLIN, 0}, {c.server, POLLIN, 0}};
    if (::poll(fds, 2, 20) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(c.client, buf, sizeof buf, 0);
      if (n <= 0) break;
      Rule rule;
      if (!c.faulted && Triggers(c, buf, static_cast<size_t>(n), &rule)) {
        c.faulted = true;
        c.rule = rule;
        c.passed = 0;
      }
      if (!WriteAll(c.server, buf, static_cast<size_t>(n))) break;
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(c.server, buf, sizeof buf, 0);
      if (n <= 0) {
        // The server closed: deliver what is held back first, then close.
        for (auto& [when, bytes] : c.late) {
          std::this_thread::sleep_until(when);
          WriteAll(c.client, bytes.data(), bytes.size());
        }
        c.late.clear();
        break;
      }
      const char* data = buf;
      size_t len = static_cast<size_t>(n);
      if (Clock::now() < window_end) {
        lost_bytes_ += static_cast<long>(len);
        c.broken = true;
        continue;
      }
      if (c.faulted) {
        const size_t through =
            std::min(len, c.rule.after_bytes > c.passed ? c.rule.after_bytes - c.passed : 0);
        if (through > 0 && !WriteAll(c.client, data, through)) break;
        c.passed += through;
        data += through;
        len -= through;
        if (len > 0 || c.passed >= c.rule.after_bytes) {
          if (!c.fired) {  // the fault takes effect: counted once per connection
            c.fired = true;
            c.fired_at = Clock::now();
            ++fired_;
          }
          if (c.rule.fault == Fault::kCut) {
            lost_bytes_ += static_cast<long>(len);
            cut = true;
            break;
          }
          if (c.rule.fault == Fault::kDrop) lost_bytes_ += static_cast<long>(len);
          if (c.rule.fault == Fault::kDelay && len > 0)
            c.late.emplace_back(Clock::now() + c.rule.delay, std::string(data, len));
        }
        continue;
      }
      if (!WriteAll(c.client, data, len)) break;
    }
  }
  if (cut) {
    linger lg{1, 0};  // a reset, as a network failure shows it
    setsockopt(c.client, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  ::shutdown(c.client, SHUT_RDWR);
  ::shutdown(c.server, SHUT_RDWR);
  std::lock_guard<std::mutex> lock(mu_);
  ::close(c.client);
  ::close(c.server);
  c.client = c.server = -1;
}

}  // namespace matih::testing
