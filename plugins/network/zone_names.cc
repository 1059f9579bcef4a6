#include "network/zone_names.h"

#include <matih/step.hpp>

namespace matih::plugins::network {
namespace {

bool ValidLabel(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
  for (char c : label)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

std::vector<std::string> StringList(const nlohmann::json& params, const char* key) {
  std::vector<std::string> out;
  const auto& value = params[key];
  if (!value.is_array() || value.empty())
    throw InvalidArgument(std::string("param ") + key + " must be a non-empty list of names");
  for (const auto& item : value) {
    if (!item.is_string()) throw InvalidArgument(std::string("param ") + key + " must list strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace

std::string AbsoluteName(std::string_view name, std::string_view what) {
  std::string lower;
  for (char c : name) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  if (!lower.empty() && lower.back() == '.') lower.pop_back();
  const std::string shown = "'" + std::string(name) + "'";
  if (lower.empty() || lower.size() > 253)
    throw InvalidArgument(std::string(what) + " " + shown + " is not a DNS name (1 to 253 characters)");
  size_t start = 0;
  while (true) {
    size_t dot = lower.find('.', start);
    std::string_view label(lower.data() + start, (dot == std::string::npos ? lower.size() : dot) - start);
    if (!ValidLabel(label))
      throw InvalidArgument(
          std::string(what) + " " + shown +
          " is not a DNS name (labels of letters, digits and inner hyphens, 1-63 characters)");
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return lower + ".";
}

std::string WithoutDot(const std::string& name) {
  return !name.empty() && name.back() == '.' ? name.substr(0, name.size() - 1) : name;
}

nlohmann::json ParseParamsObject(std::string_view text) {
  auto params = nlohmann::json::parse(text.empty() ? std::string_view("{}") : text, nullptr, false);
  if (!params.is_object()) throw InvalidArgument("params must be an object");
  return params;
}

ZoneParams ZoneParams::Parse(const nlohmann::json& params) {
  ZoneParams p;
  if (!params.contains("parent_zone") || !params["parent_zone"].is_string())
    throw InvalidArgument("param parent_zone (the zone the tenants' zones are delegated from) is required");
  p.parent_zone = AbsoluteName(params["parent_zone"].get<std::string>(), "param parent_zone");
  if (p.parent_zone.find('.') == p.parent_zone.size() - 1)
    throw InvalidArgument("param parent_zone '" + params["parent_zone"].get<std::string>() +
                          "' is a top-level domain; give a zone of your own (e.g. tenants.example.com)");
  if (params.contains("nameservers")) {
    for (const auto& ns : StringList(params, "nameservers"))
      p.nameservers.push_back(AbsoluteName(ns, "param nameservers: name server"));
  } else {
    p.nameservers = {"ns1." + p.parent_zone};
  }
  p.hostmaster = params.contains("hostmaster") && params["hostmaster"].is_string()
                     ? AbsoluteName(params["hostmaster"].get<std::string>(), "param hostmaster")
                     : "hostmaster." + p.parent_zone;
  if (params.contains("ttl")) {
    if (!params["ttl"].is_number_integer() || params["ttl"].get<long long>() < 30 ||
        params["ttl"].get<long long>() > 86400)
      throw InvalidArgument("param ttl must be an integer number of seconds from 30 to 86400");
    p.ttl = params["ttl"].get<int>();
  }
  if (params.contains("records")) {
    for (const auto& r : StringList(params, "records")) {
      if (r != "@" && r != "*" && !ValidLabel(r))
        throw InvalidArgument("param records: '" + r + "' is not @, * or a DNS label");
      p.records.push_back(r);
    }
  } else {
    p.records = {"@", "*", "api", "bi"};
  }
  return p;
}

std::string ZoneParams::TenantZone(const std::string& slug) const {
  if (!ValidLabel(slug)) throw InvalidArgument("tenant slug '" + slug + "' is not a DNS label");
  return slug + "." + parent_zone;
}

std::string ZoneParams::RecordName(const std::string& record, const std::string& zone) {
  return record == "@" ? zone : record + "." + zone;
}

}  // namespace matih::plugins::network
