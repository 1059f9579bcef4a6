#include "services/release_params.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <matih/step.hpp>
#include <optional>
#include <regex>
#include <set>

namespace matih::plugins::services {
namespace {

const std::set<std::string> kParamKeys = {"service", "chart", "tiers", "values", "from_outputs", "interval"};
const std::set<std::string> kChartKeys = {"name", "version", "repository"};
const std::set<std::string> kTiers = {"free", "starter", "professional", "enterprise"};
// Lower-cased key names, '-' and '_' dropped, that would hold a secret in plaintext.
const std::set<std::string> kSecretKeys = {"password",         "passwd",     "token",     "apikey",
                                           "clientsecret",     "privatekey", "accesskey", "secretkey",
                                           "connectionstring", "secret"};

const std::regex kDnsLabel("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
// SemVer 2.0.0, exact (no ranges: the version is pinned).
const std::regex kSemVer(
    R"(^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*))"
    R"((-((0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?)"
    R"((\+[0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*)?$)");
const std::regex kRepository(R"(^(https|oci)://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$)");
const std::regex kInterval(R"(^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$)");
const std::regex kQuantity(R"(^([0-9]+(\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$)");

std::string Lower(std::string text) {
  std::string out;
  for (unsigned char c : text)
    if (c != '-' && c != '_') out.push_back(static_cast<char>(std::tolower(c)));
  return out;
}

[[noreturn]] void Refuse(const std::string& service, const std::string& what) {
  throw InvalidArgument("service " + (service.empty() ? std::string("?") : service) + ": " + what);
}

void CheckNoPlaintextSecrets(const std::string& service, const nlohmann::json& value,
                             const std::string& path) {
  if (!value.is_object()) {
    if (value.is_array())
      for (size_t i = 0; i < value.size(); ++i)
        CheckNoPlaintextSecrets(service, value[i], path + "[" + std::to_string(i) + "]");
    return;
  }
  for (const auto& [key, item] : value.items()) {
    if (kSecretKeys.count(Lower(key)) && !item.is_object() && !item.is_null())
      Refuse(service, path + "." + key +
                          ": plaintext secrets do not belong in values; name the Kubernetes Secret that "
                          "holds it (e.g. existingSecret, synced from the vault)");
    CheckNoPlaintextSecrets(service, item, path + "." + key);
  }
}

// A Kubernetes quantity in base units, or nullopt when `value` is not one.
std::optional<double> Quantity(const nlohmann::json& value) {
  if (value.is_number()) return value.get<double>();
  if (!value.is_string()) return std::nullopt;
  std::smatch m;
  const std::string text = value.get<std::string>();
  if (!std::regex_match(text, m, kQuantity)) return std::nullopt;
  static const std::map<std::string, double> kScale = {{"", 1},
                                                       {"m", 1e-3},
                                                       {"k", 1e3},
                                                       {"M", 1e6},
                                                       {"G", 1e9},
                                                       {"T", 1e12},
                                                       {"P", 1e15},
                                                       {"E", 1e18},
                                                       {"Ki", 1024.0},
                                                       {"Mi", 1048576.0},
                                                       {"Gi", 1073741824.0},
                                                       {"Ti", 1099511627776.0},
                                                       {"Pi", 1125899906842624.0},
                                                       {"Ei", 1152921504606846976.0}};
  return std::stod(m[1].str()) * kScale.at(m[3].str());
}

bool IsCount(const nlohmann::json& v, long long min) {
  return v.is_number_integer() && v.get<long long>() >= min;
}

void CheckTierValues(const std::string& service, const std::string& tier, const nlohmann::json& values) {
  const std::string at = "tiers." + tier;
  if (!values.is_object()) Refuse(service, at + " must be an object of values");
  if (values.contains("replicas") && !IsCount(values["replicas"], 0))
    Refuse(service, at + ".replicas must be an integer >= 0, not " + values["replicas"].dump());
  if (values.contains("resources")) {
    const auto& r = values["resources"];
    if (!r.is_object()) Refuse(service, at + ".resources must be an object");
    for (const char* kind : {"requests", "limits"}) {
      if (!r.contains(kind)) continue;
      if (!r[kind].is_object()) Refuse(service, at + ".resources." + kind + " must be an object");
      for (const auto& [name, q] : r[kind].items())
        if (!Quantity(q))
          Refuse(service,
                 at + ".resources." + kind + "." + name + " is not a Kubernetes quantity: " + q.dump());
    }
    if (r.contains("requests") && r.contains("limits"))
      for (const auto& [name, q] : r["requests"].items())
        if (r["limits"].contains(name) && *Quantity(q) > *Quantity(r["limits"][name]))
          Refuse(service, at + ".resources: requests." + name + " " + q.dump() + " exceeds limits." + name +
                              " " + r["limits"][name].dump());
  }
  if (values.contains("autoscaling")) {
    const auto& a = values["autoscaling"];
    if (!a.is_object()) Refuse(service, at + ".autoscaling must be an object");
    if (a.contains("enabled") && !a["enabled"].is_boolean())
      Refuse(service, at + ".autoscaling.enabled must be true or false");
    if (a.contains("minReplicas") && !IsCount(a["minReplicas"], 1))
      Refuse(service, at + ".autoscaling.minReplicas must be an integer >= 1");
    if (a.contains("maxReplicas") && !IsCount(a["maxReplicas"], 1))
      Refuse(service, at + ".autoscaling.maxReplicas must be an integer >= 1");
    if (a.contains("minReplicas") && a.contains("maxReplicas") &&
        a["maxReplicas"].get<long long>() < a["minReplicas"].get<long long>())
      Refuse(service, at + ".autoscaling.maxReplicas must not be below minReplicas");
    if (a.contains("targetCPUUtilizationPercentage")) {
      const auto& t = a["targetCPUUtilizationPercentage"];
      if (!t.is_number_integer() || t.get<long long>() < 1 || t.get<long long>() > 100)
        Refuse(service, at + ".autoscaling.targetCPUUtilizationPercentage must be an integer from 1 to 100");
    }
  }
}

std::string Text(const std::string& service, const nlohmann::json& object, const char* key,
                 const std::string& where) {
  if (!object.contains(key)) Refuse(service, where + " is required");
  if (!object[key].is_string())
    Refuse(service, where + " must be a string" +
                        (object[key].is_number()
                             ? " (quote it in YAML: " + object[key].dump() + " is read as a number)"
                             : std::string()));
  return object[key].get<std::string>();
}

}  // namespace

void DeepMerge(nlohmann::json& base, const nlohmann::json& over) {
  if (!base.is_object() || !over.is_object()) {
    base = over;
    return;
  }
  for (const auto& [key, value] : over.items()) {
    if (base.contains(key))
      DeepMerge(base[key], value);
    else
      base[key] = value;
  }
}

ReleaseParams ReleaseParams::Parse(std::string_view params_json) {
  auto params =
      nlohmann::json::parse(params_json.empty() ? std::string_view("{}") : params_json, nullptr, false);
  if (!params.is_object()) throw InvalidArgument("params must be an object");
  ReleaseParams p;
  if (params.contains("service") && params["service"].is_string()) p.service = params["service"];
  for (const auto& [key, value] : params.items())
    if (!kParamKeys.count(key)) Refuse(p.service, "unknown param '" + key + "'");

  p.service = Text(p.service, params, "service", "param service");
  if (p.service.size() > 53 || !std::regex_match(p.service, kDnsLabel))
    Refuse(p.service, "param service must be a DNS label of at most 53 characters (a Helm release name)");

  if (!params.contains("chart") || !params["chart"].is_object())
    Refuse(p.service, "param chart {name, version, repository} is required");
  const auto& chart = params["chart"];
  for (const auto& [key, value] : chart.items())
    if (!kChartKeys.count(key)) Refuse(p.service, "unknown key chart." + key);
  p.chart_name = Text(p.service, chart, "name", "chart.name");
  if (p.chart_name.size() > 63 || !std::regex_match(p.chart_name, kDnsLabel))
    Refuse(p.service,
           "chart.name '" + p.chart_name + "' is not a valid chart name (lowercase letters, digits, '-')");
  p.chart_version = Text(p.service, chart, "version", "chart.version");
  if (!std::regex_match(p.chart_version, kSemVer))
    Refuse(p.service, "chart.version '" + p.chart_version + "' of chart " + p.chart_name +
                          " is not a pinned SemVer version (like 1.4.2; no ranges)");
  p.repository = Text(p.service, chart, "repository", "chart.repository");
  if (p.repository.find('@') != std::string::npos)
    Refuse(p.service, "chart.repository must not carry credentials (use the HelmRepository's secretRef)");
  if (!std::regex_match(p.repository, kRepository))
    Refuse(p.service, "chart.repository '" + p.repository + "' must be an https:// or oci:// URL");

  if (params.contains("interval")) {
    p.interval = Text(p.service, params, "interval", "param interval");
    if (!std::regex_match(p.interval, kInterval))
      Refuse(p.service, "param interval '" + p.interval + "' is not a duration like 10m or 1h30m");
  }

  if (params.contains("values")) {
    if (!params["values"].is_object()) Refuse(p.service, "param values must be an object");
    p.values = params["values"];
    if (p.values.contains("matih"))
      Refuse(p.service, "values.matih is set by the provisioner (tenant and service identity)");
    CheckNoPlaintextSecrets(p.service, p.values, "values");
  }

  if (!params.contains("tiers") || !params["tiers"].is_object() || params["tiers"].empty())
    Refuse(p.service, "param tiers {tier: values} is required");
  p.tiers = params["tiers"];
  for (const auto& [tier, values] : p.tiers.items()) {
    if (!kTiers.count(tier))
      Refuse(p.service, "tiers." + tier + " is not a tier (free, starter, professional, enterprise)");
    CheckTierValues(p.service, tier, values);
    if (values.contains("matih")) Refuse(p.service, "tiers." + tier + ".matih is set by the provisioner");
    CheckNoPlaintextSecrets(p.service, values, "tiers." + tier);
  }

  if (params.contains("from_outputs")) {
    if (!params["from_outputs"].is_object()) Refuse(p.service, "param from_outputs must be an object");
    for (const auto& [pointer, source] : params["from_outputs"].items()) {
      const std::string at = "from_outputs." + pointer;
      if (pointer.size() < 2 || pointer[0] != '/' || pointer.find("//") != std::string::npos ||
          pointer.back() == '/')
        Refuse(p.service, at + ": the key must be a JSON pointer into the values, like /database/host");
      try {
        (void)nlohmann::json::json_pointer(pointer);
      } catch (const nlohmann::json::exception&) {
        Refuse(p.service, at + ": the key is not a valid JSON pointer");
      }
      if (pointer.rfind("/matih/", 0) == 0 || pointer == "/matih")
        Refuse(p.service, at + ": values.matih is set by the provisioner");
      const std::string last = pointer.substr(pointer.rfind('/') + 1);
      if (kSecretKeys.count(Lower(last)))
        Refuse(p.service, at + ": step outputs never hold secrets; name the Kubernetes Secret instead");
      if (!source.is_string()) Refuse(p.service, at + " must be \"<step>.<output>\"");
      const std::string text = source.get<std::string>();
      const size_t dot = text.find('.');
      if (dot == std::string::npos || dot == 0 || dot + 1 == text.size())
        Refuse(p.service, at + " must be \"<step>.<output>\", not '" + text + "'");
      p.from_outputs.push_back({pointer, text.substr(0, dot), text.substr(dot + 1)});
    }
  }
  return p;
}

nlohmann::json ReleaseParams::ValuesForTier(const std::string& tier) const {
  if (!tiers.contains(tier)) Refuse(service, "param tiers has no values for tier " + tier);
  nlohmann::json merged = values;
  DeepMerge(merged, tiers[tier]);
  return merged;
}

}  // namespace matih::plugins::services
