#include "observability/prometheus_api.h"

#include <ctime>
#include <matih/step.hpp>
#include <mutex>
#include <optional>

#include "common/http_client.h"

namespace matih::plugins::observability {
namespace {

HttpResponse Call(const std::string& method, const std::string& url) {
  auto response = HttpClient({}, std::chrono::seconds(10)).Send({method, url, {}, {}});
  if (response.status == 503 || response.status >= 502)
    throw TransientError("Prometheus " + url + " answered " + std::to_string(response.status));
  return response;
}

}  // namespace

nlohmann::json PrometheusApi::GetData(const std::string& path) const {
  const std::string url = base_ + path;
  const auto response = Call("GET", url);
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (response.status != 200 || !body.is_object() || body.value("status", "") != "success" ||
      !body.contains("data"))
    throw PermanentError("Prometheus " + url + " answered " + std::to_string(response.status) + ": " +
                         response.body.substr(0, 200));
  return body["data"];
}

std::set<std::string> PrometheusApi::ActiveTargets(const std::string& label, const std::string& value) const {
  const auto data = GetData("/api/v1/targets?state=active");
  std::set<std::string> out;
  for (const auto& target : data.value("activeTargets", nlohmann::json::array())) {
    const auto labels = target.value("labels", nlohmann::json::object());
    if (labels.value(label, "") == value) out.insert(labels.value("instance", ""));
  }
  return out;
}

// The loaded rule groups of every file, as of one configuration of one Prometheus. Prometheus only
// changes its rule groups when it (re)loads its configuration, which /api/v1/status/runtimeinfo
// dates (startTime, lastConfigTime): while that date stays the same, the groups fetched before
// are still the ones loaded, so a drift pass asks for the small runtimeinfo instead of the whole
// /api/v1/rules (which grows with the number of tenants) for every tenant. lastConfigTime has
// whole seconds only: a fetch counts as current only when it started at least one second after
// the stamp, so a second reload within the same second can never hide behind it.
namespace {

using Groups = std::map<std::string, std::vector<std::string>>;

struct RulesSnapshot {
  std::string stamp;                    // startTime + lastConfigTime
  std::map<std::string, Groups> files;  // rule file -> its groups
};

std::mutex& SnapshotMutex() {
  static auto* mu = new std::mutex();
  return *mu;
}
// Per Prometheus base URL; guarded by SnapshotMutex().
std::map<std::string, RulesSnapshot>& Snapshots() {
  static auto* snapshots = new std::map<std::string, RulesSnapshot>();
  return *snapshots;
}

// Seconds since the epoch of an RFC 3339 UTC time ("2026-12-01T17:56:27Z", fraction ignored);
// nullopt when it does not parse.
std::optional<std::time_t> ParseUtc(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  return timegm(&tm);
}

}  // namespace

Groups PrometheusApi::RuleGroups(const std::string& file) const {
  const auto info = GetData("/api/v1/status/runtimeinfo");
  const std::string config_time = info.value("lastConfigTime", "");
  const std::string stamp = info.value("startTime", "") + " " + config_time;
  {
    std::lock_guard<std::mutex> lock(SnapshotMutex());
    auto it = Snapshots().find(base_);
    if (it != Snapshots().end() && it->second.stamp == stamp) {
      auto groups = it->second.files.find(file);
      return groups == it->second.files.end() ? Groups{} : groups->second;
    }
  }
  const std::time_t fetched_at = std::time(nullptr);
  const auto data = GetData("/api/v1/rules");
  RulesSnapshot snapshot;
  for (const auto& group : data.value("groups", nlohmann::json::array())) {
    auto& names = snapshot.files[group.value("file", "")][group.value("name", "")];
    for (const auto& rule : group.value("rules", nlohmann::json::array()))
      names.push_back(rule.value("name", ""));
  }
  auto found = snapshot.files.find(file);
  Groups out = found == snapshot.files.end() ? Groups{} : found->second;
  const auto configured = ParseUtc(config_time);
  if (configured && fetched_at >= *configured + 1) {
    snapshot.stamp = stamp;
    std::lock_guard<std::mutex> lock(SnapshotMutex());
    Snapshots()[base_] = std::move(snapshot);
  }
  return out;
}

// Prometheus expands its rule_files globs, then reads each file: when another runner thread or
// host adds or deletes a tenant's rule file in between, the reload answers 500 "no such file or
// directory" although nothing is wrong with the configuration. That race is transient (the next
// reload reads a settled directory); any other refusal is a broken configuration, permanent.
void PrometheusApi::Reload() const {
  const std::string url = base_ + "/-/reload";
  const auto response = Call("POST", url);
  if (response.status == 500 && response.body.find("no such file or directory") != std::string::npos)
    throw TransientError("Prometheus reload raced with a rule file being changed (" + url +
                         " answered 500): " + response.body.substr(0, 300));
  if (response.status != 200)
    throw PermanentError("Prometheus refused to reload (" + url + " answered " +
                         std::to_string(response.status) + "): " + response.body.substr(0, 300));
}

}  // namespace matih::plugins::observability
