// PrometheusApi: what steps 43-44 ask Prometheus over its HTTP API (v1) and lifecycle endpoint:
// the active scrape targets, the loaded rule groups, and a reload of the configuration.
//
// Errors: Prometheus unreachable, not ready (503) or answering 5xx -> TransientError; any other
// unexpected answer -> PermanentError naming the URL. A failed reload (Prometheus keeps the old
// rules and answers 500) is PermanentError with its words. Bodies are parsed strictly.
// Holds only its URL (the rule-group snapshot is process-wide, behind a mutex); safe from any
// thread.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace matih::plugins::observability {

class PrometheusApi {
 public:
  explicit PrometheusApi(std::string base_url) : base_(std::move(base_url)) {}

  // The addresses (label instance) of the active targets whose label `label` is `value`.
  std::set<std::string> ActiveTargets(const std::string& label, const std::string& value) const;
  // The loaded rule groups of rule file `file`: group name -> its rule names, in order. Served
  // from a per-process snapshot of all files while Prometheus has not reloaded since it was taken.
  std::map<std::string, std::vector<std::string>> RuleGroups(const std::string& file) const;
  // POST /-/reload; returns when Prometheus has reloaded (it answers after the reload).
  void Reload() const;
  const std::string& url() const { return base_; }

 private:
  nlohmann::json GetData(const std::string& path) const;
  std::string base_;
};

// Polls `done` every 100 ms until it answers true or `timeout` passes; false on timeout.
template <typename Fn>
bool WaitUntil(std::chrono::milliseconds timeout, Fn&& done);

}  // namespace matih::plugins::observability

#include <thread>

template <typename Fn>
bool matih::plugins::observability::WaitUntil(std::chrono::milliseconds timeout, Fn&& done) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}
