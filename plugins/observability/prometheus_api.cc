#include "observability/prometheus_api.h"

#include <matih/step.hpp>

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

std::map<std::string, std::vector<std::string>> PrometheusApi::RuleGroups(const std::string& file) const {
  const auto data = GetData("/api/v1/rules");
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& group : data.value("groups", nlohmann::json::array())) {
    if (group.value("file", "") != file) continue;
    auto& names = out[group.value("name", "")];
    for (const auto& rule : group.value("rules", nlohmann::json::array()))
      names.push_back(rule.value("name", ""));
  }
  return out;
}

void PrometheusApi::Reload() const {
  const std::string url = base_ + "/-/reload";
  const auto response = Call("POST", url);
  if (response.status != 200)
    throw PermanentError("Prometheus refused to reload (" + url + " answered " +
                         std::to_string(response.status) + "): " + response.body.substr(0, 300));
}

}  // namespace matih::plugins::observability
