// FaultProxy: a TCP fault proxy for tests (a test tool, not a server fake): listens on a loopback
// port, forwards every connection to one target (host:port), and on command lets a request
// through but loses its reply, the way a network that fails after the server acted does.
//
// Faults are armed with a Rule: the trigger is the Nth client chunk, counted over all
// connections, that contains `marker` (any chunk when the marker is empty; the marker is matched
// across chunk boundaries). What happens to the reply on that connection once the server
// answers and `after_bytes` of the answer went through:
//   kDrop   the rest of the reply is swallowed; the connection stays open (the client times out)
//           and is closed after `hold` (never, when hold is 0, until the client closes it);
//   kCut    both sides are closed at once (a reset in the middle of the reply);
//   kDelay  the reply arrives `delay` late, intact.
// DropRepliesFor(window) loses every reply of every connection for a time window; connections
// that lost bytes are closed when the window ends (their stream is broken).
// Rules fire `times` times, then the proxy forwards faithfully again.
//
// Thread safety: every public method may be called from any thread while connections flow; one
// thread accepts, one thread pumps each connection. The destructor closes everything.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace matih::testing {

class FaultProxy {
 public:
  enum class Fault { kNone, kDrop, kCut, kDelay };
  struct Rule {
    Fault fault = Fault::kNone;
    std::string marker;                  // in the request; empty: any client chunk
    int nth = 1;                         // the Nth matching chunk (from 1)
    int times = 1;                       // how many matching chunks fire, from the Nth on
    size_t after_bytes = 0;              // reply bytes let through before the fault
    std::chrono::milliseconds hold{0};   // kDrop: close the connection after this
    std::chrono::milliseconds delay{0};  // kDelay: how late the reply arrives
  };

  // Rules of each fault on requests containing `marker` (empty: any request).
  static Rule Drop(std::string marker, std::chrono::milliseconds hold = std::chrono::milliseconds(0)) {
    Rule r;
    r.fault = Fault::kDrop;
    r.marker = std::move(marker);
    r.hold = hold;
    return r;
  }
  static Rule Cut(std::string marker, size_t after_bytes = 0) {
    Rule r;
    r.fault = Fault::kCut;
    r.marker = std::move(marker);
    r.after_bytes = after_bytes;
    return r;
  }
  static Rule Delay(std::string marker, std::chrono::milliseconds delay) {
    Rule r;
    r.fault = Fault::kDelay;
    r.marker = std::move(marker);
    r.delay = delay;
    return r;
  }

  // Forwards to target_host:target_port; listens on 127.0.0.1:listen_port (0: any free port).
  // Throws std::runtime_error when it cannot listen.
  FaultProxy(std::string target_host, int target_port, int listen_port = 0);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  // Replaces the armed rule (resets its match count).
  void Arm(const Rule& rule);
  void Disarm() { Arm(Rule{}); }
  // Loses every reply byte from now for `window`.
  void DropRepliesFor(std::chrono::milliseconds window);
  // How many times the armed rule fired (a request matched and its reply was faulted).
  int fired() const { return fired_.load(); }
  // Requests (client chunks) seen that contained the armed marker.
  int matched() const { return matched_.load(); }
  // Connections accepted so far.
  int connections() const { return connections_.load(); }
  // Bytes of replies lost (swallowed or never delivered because of a cut).
  long lost_bytes() const { return lost_bytes_.load(); }
  // Closes every open connection (both sides) without stopping the listener.
  void CutAll();

 private:
  struct Conn;
  void AcceptLoop();
  void Pump(std::shared_ptr<Conn> conn);
  // Called with the client's chunk: does it trigger the armed rule? Fills the fault to apply.
  bool Triggers(Conn& conn, const char* data, size_t n, Rule* fired_rule);

  std::string target_host_;
  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;

  mutable std::mutex mu_;  // guards rule_, match_count_, fire_left_, window_end_, conns_, pumps_
  Rule rule_;
  int match_count_ = 0;
  int fire_left_ = 0;
  std::chrono::steady_clock::time_point window_end_{};
  std::vector<std::weak_ptr<Conn>> conns_;
  std::vector<std::thread> pumps_;

  std::atomic<int> fired_{0}, matched_{0}, connections_{0};
  std::atomic<long> lost_bytes_{0};
};

// "host:port" -> {host, port}; throws std::invalid_argument on a bad form.
std::pair<std::string, int> SplitHostPort(const std::string& host_port);

}  // namespace matih::testing
