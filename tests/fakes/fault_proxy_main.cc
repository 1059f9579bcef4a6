// fault_proxy: the command-line form of tests/fakes/fault_proxy.h, for scripts (a test tool).
//
//   fault_proxy --target HOST:PORT [--listen PORT] [--control FILE] [RULE...]
//   RULE: fault=none|drop|cut|delay marker=TEXT nth=N times=N after_bytes=N hold_ms=N delay_ms=N
//         window_ms=N (loses every reply for N ms from now)
//
// Prints "listening 127.0.0.1:<port>" on stdout once it accepts, then runs until SIGINT/SIGTERM.
// With --control, the file is read again whenever it changes: one line of RULE words, which
// replaces the armed rule (an empty file disarms). Every change is reported on stderr. Exit
// codes: 0 stopped by a signal, 2 bad arguments, 1 cannot listen.
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fault_proxy.h"

namespace {

using matih::testing::FaultProxy;

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

long Number(const std::string& key, const std::string& value) {
  if (value.empty() || value.size() > 9 || value.find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument(key + " needs a number, got '" + value + "'");
  return std::stol(value);
}

// Applies RULE words to `proxy`; throws std::invalid_argument naming a bad word.
void ApplyWords(FaultProxy& proxy, const std::vector<std::string>& words) {
  FaultProxy::Rule rule;
  long window_ms = -1;
  for (const auto& word : words) {
    const auto eq = word.find('=');
    if (eq == std::string::npos) throw std::invalid_argument("expected key=value, got '" + word + "'");
    const std::string key = word.substr(0, eq), value = word.substr(eq + 1);
    if (key == "fault") {
      if (value == "none")
        rule.fault = FaultProxy::Fault::kNone;
      else if (value == "drop")
        rule.fault = FaultProxy::Fault::kDrop;
      else if (value == "cut")
        rule.fault = FaultProxy::Fault::kCut;
      else if (value == "delay")
        rule.fault = FaultProxy::Fault::kDelay;
      else
        throw std::invalid_argument("fault must be none, drop, cut or delay, got '" + value + "'");
    } else if (key == "marker") {
      rule.marker = value;
    } else if (key == "nth") {
      rule.nth = static_cast<int>(Number(key, value));
    } else if (key == "times") {
      rule.times = static_cast<int>(Number(key, value));
    } else if (key == "after_bytes") {
      rule.after_bytes = static_cast<size_t>(Number(key, value));
    } else if (key == "hold_ms") {
      rule.hold = std::chrono::milliseconds(Number(key, value));
    } else if (key == "delay_ms") {
      rule.delay = std::chrono::milliseconds(Number(key, value));
    } else if (key == "window_ms") {
      window_ms = Number(key, value);
    } else {
      throw std::invalid_argument("unknown rule key '" + key + "'");
    }
  }
  proxy.Arm(rule);
  if (window_ms >= 0) proxy.DropRepliesFor(std::chrono::milliseconds(window_ms));
}

std::vector<std::string> Split(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

int Usage(const std::string& why) {
  std::cerr << "fault_proxy: " << why
            << "\nusage: fault_proxy --target HOST:PORT [--listen PORT] [--control FILE] [RULE...]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string target, control;
  int listen_port = 0;
  std::vector<std::string> words;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
        return argv[++i];
      };
      if (arg == "--target")
        target = next();
      else if (arg == "--listen")
        listen_port = static_cast<int>(Number(arg, next()));
      else if (arg == "--control")
        control = next();
      else if (arg.rfind("--", 0) == 0)
        throw std::invalid_argument("unknown option " + arg);
      else
        words.push_back(arg);
    }
    if (target.empty()) return Usage("--target is required");
    if (listen_port > 65535) return Usage("--listen must be a port (0-65535)");
    const auto [host, port] = matih::testing::SplitHostPort(target);
    std::unique_ptr<FaultProxy> proxy;
    try {
      proxy = std::make_unique<FaultProxy>(host, port, listen_port);
    } catch (const std::runtime_error& e) {
      std::cerr << "fault_proxy: " << e.what() << "\n";
      return 1;
    }
    ApplyWords(*proxy, words);
    signal(SIGINT, OnSignal);
    signal(SIGTERM, OnSignal);
    std::cout << "listening 127.0.0.1:" << proxy->port() << std::endl;
    timespec seen{};
    while (!g_stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      struct stat st {};
      if (control.empty() || ::stat(control.c_str(), &st) != 0) continue;
      if (st.st_mtim.tv_sec == seen.tv_sec && st.st_mtim.tv_nsec == seen.tv_nsec) continue;
      seen = st.st_mtim;
      std::ifstream in(control);
      std::string line;
      std::getline(in, line);
      try {
        ApplyWords(*proxy, Split(line));
        std::cerr << "fault_proxy: armed '" << line << "' (fired so far " << proxy->fired() << ")\n";
      } catch (const std::invalid_argument& e) {
        std::cerr << "fault_proxy: control file " << control << ": " << e.what() << " (rule unchanged)\n";
      }
    }
    std::cerr << "fault_proxy: stopping; connections " << proxy->connections() << ", faults fired "
              << proxy->fired() << ", reply bytes lost " << proxy->lost_bytes() << "\n";
    return 0;
  } catch (const std::invalid_argument& e) {
    return Usage(e.what());
  }
}
