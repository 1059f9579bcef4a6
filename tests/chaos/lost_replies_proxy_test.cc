// The fault proxy itself (tests/fakes/fault_proxy), against a small line server of the test:
// the server answers "ok:<line>\n" to each line and records every line it received, so each
// test can tell "the request arrived" from "the reply came back".
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fault_proxy.h"

namespace matih::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Answers every line with "ok:<line>\n"; one thread per connection.
class LineServer {
 public:
  LineServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(0, bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a));
    EXPECT_EQ(0, listen(fd_, 16));
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] {
      for (;;) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        std::lock_guard<std::mutex> lock(mu_);
        clients_.push_back(c);
        threads_.emplace_back([this, c] { Serve(c); });
      }
    });
  }
  ~LineServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    acceptor_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (int c : clients_) shutdown(c, SHUT_RDWR);
    for (auto& t : threads_) t.join();
    for (int c : clients_) close(c);
  }
  int port() const { return port_; }
  std::vector<std::string> received() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  void Serve(int c) {
    std::string pending;
    char buf[4096];
    for (;;) {
      ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) return;
      pending.append(buf, static_cast<size_t>(n));
      for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
        const std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        {
          std::lock_guard<std::mutex> lock(mu_);
          lines_.push_back(line);
        }
        const std::string reply = "ok:" + line + "\n";
        if (send(c, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) return;
      }
    }
  }
  int fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> clients_;
  std::vector<std::thread> threads_;
  std::vector<std::string> lines_;
};

// A client connection to the proxy.
class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    EXPECT_EQ(0, connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a));
  }
  ~Client() { close(fd_); }
  void Send(const std::string& data) {
    ASSERT_EQ(ssize_t(data.size()), send(fd_, data.data(), data.size(), MSG_NOSIGNAL));
  }
  // What arrives until `n` bytes came, the connection closed, or `wait` passed. `closed` tells
  // whether the connection ended (EOF or reset).
  std::string Read(size_t n, std::chrono::milliseconds wait, bool* closed = nullptr) {
    std::string out;
    const auto end = Clock::now() + wait;
    if (closed) *closed = false;
    while (out.size() < n && Clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      const int left =
          static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count());
      if (poll(&p, 1, std::max(1, left)) <= 0) continue;
      char buf[1024];
      ssize_t r = read(fd_, buf, std::min(sizeof buf, n - out.size()));
      if (r <= 0) {
        if (closed) *closed = true;
        break;
      }
      out.append(buf, static_cast<size_t>(r));
    }
    return out;
  }

 private:
  int fd_ = -1;
};

TEST(FaultProxy, ForwardsFaithfullyWhenNothingIsArmed) {
  LineServer server;
  FaultProxy proxy("127.0.0.1", server.port());
  Client c(proxy.port());
  c.Send("hello\n");
  EXPECT_EQ("ok:hello\n", c.Read(9, 2s));
  c.Send("again\n");
  EXPECT_EQ("ok:again\n", c.Read(9, 2s));
  EXPECT_EQ(0, proxy.fired());
  EXPECT_EQ(1, proxy.connections());
}

TEST(FaultProxy, DropForwardsTheRequestAndLosesItsReply) {
  LineServer server;
  FaultProxy proxy("127.0.0.1", server.port());
  proxy.Arm(FaultProxy::Drop("CREATE"));
  Client c(proxy.port());
  c.Send("CREATE thing\n");
  bool closed = true;
  EXPECT_EQ("", c.Read(1, 400ms, &closed)) << "the reply is lost";
  EXPECT_FALSE(closed) << "kDrop without hold keeps the connection open";
  EXPECT_EQ(std::vector<std::string>{"CREATE thing"}, server.received()) << "the request was executed";
  EXPECT_EQ(1, proxy.fired());
  EXPECT_GT(proxy.lost_bytes(), 0);
  // Fired once: a new connection is served again.
  Client d(proxy.port());
  d.Send("CREATE other\n");
  EXPECT_EQ("ok:CREATE other\n", d.Read(16, 2s));
}

TEST(FaultProxy, DropWithHoldClosesTheConnectionAfterIt) {
  LineServer server;
  FaultProxy proxy("127.0.0.1", server.port());
  proxy.Arm(FaultProxy::Drop("", 300ms));
  Client c(proxy.port());
  const auto start = Clock::now();
  c.Send("x\n");
  bool closed = false;
  EXPECT_EQ("", c.Read(1, 3s, &closed));
  EXPECT_TRUE(closed);
  EXPECT_GE(Clock::now() - start, 250ms);
}

TEST(FaultProxy, CutLetsAfterBytesThroughThenCloses) {
  LineServer server;
  FaultProxy proxy("127.0.0.1", server.port());
  proxy.Arm(FaultProxy::Cut("COMMIT", 3));
  Client c(proxy.port());
  c.Send("BEGIN\n");
  EXPECT_EQ("ok:BEGIN\n", c.Read(9, 2s)) << "only the marked request is faulted";
  c.Send("COMMIT\n");
  bool closed = false;
  EXPECT_EQ("ok:", c.Read(100, 2s, &closed));
  EXPECT_TRUE(closed);
  EXPECT_EQ((std::vector<std::string>{"BEGIN", "COMMIT"}), server.received());
  EXPECT_EQ(1, proxy.fired());
}

TEST(FaultProxy, DelayDeliversTheWholeReplyLate) {
  LineServer server;
  FaultProxy proxy("127.0.0.1", server.port());
  proxy.Arm(FaultProxy::Delay("", 400ms));
  Client c(proxy.port());
  const auto start = Clock::now();
  c.Send("slow\n");
  EXPECT_EQ("", c.Read(1, 200ms)) << "not yet";
  EXPECT_EQ("ok:slow\n", c.Read(8, 2s));
  EXPECT_GE(Clock::now() - start, 380ms);
}

TEST(FaultProxy, FiresOnTheNthMatchOnlyAndMatchesAcrossChunks) {
  LineServer server;
  FaultProxy proxy("127.0.0.1", server.port());
  auto rule = FaultProxy::Cut("SETUSER");
  rule.nth = 2;
  proxy.Arm(rule);
  Client a(proxy.port());
  a.Send("ACL SETUSER one\n");
  EXPECT_EQ("ok:ACL SETUSER one\n", a.Read(19, 2s)) << "the first match passes";
  Client b(proxy.port());
  b.Send("ACL SET");
  std::this_thread::sleep_for(50ms);  // two chunks: the marker spans them
  b.Send("USER two\n");
  bool closed = false;
  EXPECT_EQ("", b.Read(100, 2s, &closed));
  EXPECT_TRUE(closed);
  EXPECT_EQ(2, proxy.matched());
  EXPECT_EQ(1, proxy.fired());
}

TEST(FaultProxy, DropRepliesForAWindowThenServesNewConnections) {
  LineServer server;
  FaultProxy proxy("127.0.0.1", server.port());
  proxy.DropRepliesFor(300ms);
  Client c(proxy.port());
  c.Send("during\n");
  bool closed = false;
  EXPECT_EQ("", c.Read(100, 2s, &closed)) << "lost, then the broken connection is closed";
  EXPECT_TRUE(closed);
  Client d(proxy.port());
  d.Send("after\n");
  EXPECT_EQ("ok:after\n", d.Read(9, 2s));
  EXPECT_EQ((std::vector<std::string>{"during", "after"}), server.received());
}

TEST(FaultProxy, TargetDownMeansConnectionsClose) {
  int port;
  {
    LineServer gone;
    port = gone.port();
  }
  FaultProxy proxy("127.0.0.1", port);
  Client c(proxy.port());
  bool closed = false;
  c.Read(1, 2s, &closed);
  EXPECT_TRUE(closed);
}

TEST(FaultProxy, SplitHostPortRefusesBadForms) {
  EXPECT_EQ(std::make_pair(std::string("127.0.0.1"), 5432), SplitHostPort("127.0.0.1:5432"));
  for (const char* bad : {"", "host", ":5432", "host:", "host:0", "host:99999", "host:54x"})
    EXPECT_THROW(SplitHostPort(bad), std::invalid_argument) << bad;
}

}  // namespace
}  // namespace matih::testing
