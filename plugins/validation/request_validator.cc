#include "validation/request_validator.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <regex>

namespace matih::plugins {
namespace {

const std::set<std::string> kAllowedSpecFields = {"admin_email", "display_name", "region", "services",
                                                  "quotas",      "tier",         "slug"};
const std::set<std::string> kQuotaFields = {"cpu_requests",  "cpu_limits", "memory_requests",
                                            "memory_limits", "pvcs",       "services"};

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// A value as it may appear in a message: at most 60 bytes, control characters and bytes outside
// ASCII shown as \xNN, so a hostile value cannot rewrite an operator's terminal or log line.
std::string Quote(const std::string& s) {
  std::string shown;
  for (size_t i = 0; i < s.size() && i < 60; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      shown += std::string("\\x") + kHex[c >> 4] + kHex[c & 0xf];
    } else {
      shown += static_cast<char>(c);
    }
  }
  if (s.size() > 60) shown += "...";
  return "'" + shown + "'";
}

void CheckQuotas(const nlohmann::json& quotas, std::vector<std::string>& problems) {
  if (!quotas.is_object()) {
    problems.push_back("quotas must be an object");
    return;
  }
  for (const auto& [key, value] : quotas.items()) {
    if (!kQuotaFields.count(key)) {
      problems.push_back("quotas has an unknown field " + Quote(key));
      continue;
    }
    if (key == "pvcs" || key == "services") {
      if (!value.is_number_integer() || value.get<long long>() <= 0 || value.get<long long>() > 100000)
        problems.push_back("quotas." + key + " must be an integer between 1 and 100000");
    } else if (!value.is_string() || !IsQuantity(value.get<std::string>())) {
      problems.push_back("quotas." + key +
                         " must be a Kubernetes quantity string such as \"16\" or \"64Gi\"");
    }
  }
  for (const auto& field : kQuotaFields)
    if (!quotas.contains(field))
      problems.push_back("quotas." + field + " is required for the enterprise tier");
}

}  // namespace

const std::set<std::string>& BuiltInReservedSlugs() {
  static const std::set<std::string> reserved = {
      "admin",  "api",     "app",     "auth",     "billing",         "console",     "default",
      "dns",    "docs",    "ingress", "internal", "kube-node-lease", "kube-public", "kube-system",
      "login",  "mail",    "matih",   "metrics",  "monitoring",      "platform",    "root",
      "status", "support", "system",  "www"};
  return reserved;
}

const std::set<std::string>& KnownTiers() {
  static const std::set<std::string> tiers = {"free", "starter", "professional", "enterprise"};
  return tiers;
}

bool IsQuantity(const std::string& text) {
  static const std::regex quantity(R"(^([0-9]+(\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$)");
  return text.size() <= 32 && std::regex_match(text, quantity);
}

std::string CheckSlug(const std::string& slug, const ValidationRules& rules) {
  if (slug.empty()) return "slug is empty";
  if (slug.size() > rules.max_slug_length)
    return "slug " + Quote(slug) + " is longer than " + std::to_string(rules.max_slug_length) + " characters";
  if (!(slug[0] >= 'a' && slug[0] <= 'z'))
    return "slug " + Quote(slug) + " must start with a lowercase letter";
  if (slug.back() == '-') return "slug " + Quote(slug) + " must not end with a hyphen";
  for (char c : slug)
    if (!IsLowerAlnum(c) && c != '-')
      return "slug " + Quote(slug) + " may contain only lowercase letters, digits and hyphens";
  if (slug.find("--") != std::string::npos)
    return "slug " + Quote(slug) + " must not contain two hyphens in a row";
  if (rules.reserved_slugs.count(slug)) return "slug " + Quote(slug) + " is reserved";
  return "";
}

std::string CheckEmail(const std::string& email) {
  if (email.size() > 254) return "admin_email is longer than 254 characters";
  auto at = email.find('@');
  if (at == std::string::npos) return "admin_email " + Quote(email) + " has no '@'";
  if (email.find('@', at + 1) != std::string::npos)
    return "admin_email " + Quote(email) + " has more than one '@'";
  std::string local = email.substr(0, at), domain = email.substr(at + 1);
  if (local.empty()) return "admin_email " + Quote(email) + " has an empty local part";
  if (local.size() > 64) return "admin_email " + Quote(email) + " has a local part longer than 64 characters";
  static const std::string kLocalSpecials = "!#$%&'*+/=?^_`{|}~.-";
  for (char c : local)
    if (!std::isalnum(static_cast<unsigned char>(c)) && kLocalSpecials.find(c) == std::string::npos)
      return "admin_email " + Quote(email) + " has a character not allowed in an address";
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string::npos)
    return "admin_email " + Quote(email) + " has a misplaced dot in its local part";
  if (domain.empty()) return "admin_email " + Quote(email) + " has an empty domain";
  if (domain.find('.') == std::string::npos)
    return "admin_email " + Quote(email) + " has a domain without a dot";
  size_t start = 0;
  while (start <= domain.size()) {
    size_t dot = domain.find('.', start);
    if (dot == std::string::npos) dot = domain.size();
    std::string label = domain.substr(start, dot - start);
    bool ok =
        !label.empty() && label.size() <= 63 && label.front() != '-' && label.back() != '-' &&
        std::all_of(label.begin(), label.end(), [](unsigned char c) { return std::isalnum(c) || c == '-'; });
    if (!ok) return "admin_email " + Quote(email) + " has an invalid domain";
    start = dot + 1;
  }
  return "";
}

std::vector<std::string> FindProblems(const TenantRequest& request, const ValidationRules& rules) {
  std::vector<std::string> problems;
  static const std::regex uuid(
      "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
  if (!std::regex_match(request.id, uuid))
    problems.push_back("tenant id " + Quote(request.id) + " is not a UUID");
  if (auto p = CheckSlug(request.slug, rules); !p.empty()) problems.push_back(p);
  const bool tier_known = KnownTiers().count(request.tier) != 0;
  if (!tier_known)
    problems.push_back("tier " + Quote(request.tier) +
                       " is unknown (free, starter, professional, enterprise)");

  if (request.spec_json.size() > rules.max_spec_bytes) {
    problems.push_back("spec is " + std::to_string(request.spec_json.size()) +
                       " bytes, more than the limit of " + std::to_string(rules.max_spec_bytes));
    return problems;  // not worth parsing
  }
  nlohmann::json spec;
  try {
    spec = nlohmann::json::parse(request.spec_json);
  } catch (const nlohmann::json::exception&) {
    problems.push_back("spec is not valid JSON");
    return problems;
  }
  if (!spec.is_object()) {
    problems.push_back("spec must be a JSON object");
    return problems;
  }
  for (const auto& [key, value] : spec.items())
    if (!kAllowedSpecFields.count(key)) problems.push_back("spec has an unknown field " + Quote(key));

  if (spec.contains("tier") && (!spec["tier"].is_string() || spec["tier"] != request.tier))
    problems.push_back("spec.tier does not match the tenant's tier");
  if (spec.contains("slug") && (!spec["slug"].is_string() || spec["slug"] != request.slug))
    problems.push_back("spec.slug does not match the tenant's slug");

  if (!spec.contains("region")) {
    problems.push_back("region is missing");
  } else if (!spec["region"].is_string()) {
    problems.push_back("region must be a string");
  } else if (!rules.regions.count(spec["region"].get<std::string>())) {
    std::string known;
    for (const auto& r : rules.regions) known += (known.empty() ? "" : ", ") + r;
    problems.push_back("region " + Quote(spec["region"].get<std::string>()) +
                       " is not one of the configured regions (" + known + ")");
  }

  if (!spec.contains("admin_email")) {
    problems.push_back("admin_email is missing");
  } else if (!spec["admin_email"].is_string()) {
    problems.push_back("admin_email must be a string");
  } else if (auto p = CheckEmail(spec["admin_email"].get<std::string>()); !p.empty()) {
    problems.push_back(p);
  }

  if (spec.contains("display_name")) {
    const auto& name = spec["display_name"];
    if (!name.is_string()) {
      problems.push_back("display_name must be a string");
    } else {
      const auto text = name.get<std::string>();
      if (text.empty() || text.size() > 100) problems.push_back("display_name must have 1 to 100 characters");
      if (std::any_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
        problems.push_back("display_name must not contain control characters");
    }
  }

  if (spec.contains("services")) {
    const auto& services = spec["services"];
    if (!services.is_array()) {
      problems.push_back("services must be a list of service names");
    } else {
      std::set<std::string> seen;
      for (const auto& s : services) {
        if (!s.is_string()) {
          problems.push_back("services may contain only strings");
          continue;
        }
        const auto name = s.get<std::string>();
        if (!rules.services.count(name))
          problems.push_back("service " + Quote(name) + " is not in the service catalog");
        if (!seen.insert(name).second) problems.push_back("service " + Quote(name) + " is listed twice");
      }
    }
  }

  if (request.tier == "enterprise") {
    if (!spec.contains("quotas"))
      problems.push_back("quotas are required for the enterprise tier");
    else
      CheckQuotas(spec["quotas"], problems);
  } else if (spec.contains("quotas") && tier_known) {
    problems.push_back("quotas may be given only for the enterprise tier; " + request.tier +
                       " has fixed sizes");
  }
  return problems;
}

}  // namespace matih::plugins
