#include "storage/tenant_containers.h"

#include <matih/step.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

namespace matih::plugins::storage {

bool IsContainerName(std::string_view name) {
  static const std::regex rule("^[a-z0-9](-?[a-z0-9])*$");
  return name.size() >= 3 && name.size() <= 63 && std::regex_match(name.begin(), name.end(), rule);
}

ContainerParams ContainerParams::Parse(std::string_view params_json) {
  auto params =
      nlohmann::json::parse(params_json.empty() ? std::string_view("{}") : params_json, nullptr, false);
  if (!params.is_object()) throw InvalidArgument("params must be an object");
  ContainerParams out;
  for (const auto& [key, value] : params.items())
    if (key != "containers" && key != "permissions" && key != "policy_days" && key != "account_step")
      throw InvalidArgument("unknown param '" + key +
                            "' (known: containers, permissions, policy_days, account_step)");
  if (!params.contains("containers") || !params["containers"].is_object() || params["containers"].empty())
    throw InvalidArgument("param containers must map tiers to lists of container names");
  static const std::regex name_rule("^[a-z0-9](-?[a-z0-9]){0,39}$");
  for (const auto& [tier, list] : params["containers"].items()) {
    if (tier != "free" && tier != "starter" && tier != "professional" && tier != "enterprise")
      throw InvalidArgument("param containers: unknown tier '" + tier + "'");
    if (!list.is_array() || list.empty())
      throw InvalidArgument("param containers." + tier + " must be a non-empty list");
    std::set<std::string> seen;
    for (const auto& n : list) {
      if (!n.is_string() || !std::regex_match(n.get<std::string>(), name_rule))
        throw InvalidArgument(
            "param containers." + tier +
            ": names are lowercase letters, digits and single hyphens, at most 40 characters");
      if (!seen.insert(n.get<std::string>()).second)
        throw InvalidArgument("param containers." + tier + " names '" + n.get<std::string>() + "' twice");
      out.by_tier[tier].push_back(n.get<std::string>());
    }
  }
  if (params.contains("permissions")) {
    if (!params["permissions"].is_string())
      throw InvalidArgument("param permissions must be a string like racwdl");
    const std::string given = params["permissions"];
    std::string canonical;
    for (char c : std::string("racwdl"))
      if (given.find(c) != std::string::npos) canonical.push_back(c);
    if (given.empty() || canonical.size() != given.size() ||
        std::set<char>(given.begin(), given.end()).size() != given.size())
      throw InvalidArgument("param permissions must be distinct letters of racwdl, not '" + given + "'");
    out.permissions = canonical;
  }
  if (params.contains("policy_days")) {
    if (!params["policy_days"].is_number_integer() || params["policy_days"] < 1 ||
        params["policy_days"] > 3650)
      throw InvalidArgument("param policy_days must be a whole number of days from 1 to 3650");
    out.policy_days = params["policy_days"];
  }
  if (params.contains("account_step")) {
    if (!params["account_step"].is_string() || params["account_step"].get<std::string>().empty())
      throw InvalidArgument("param account_step must be a step name");
    out.account_step = params["account_step"];
  }
  return out;
}

std::vector<WantedContainer> WantedContainers(const ContainerParams& params, const std::string& slug,
                                              const std::string& tier) {
  auto it = params.by_tier.find(tier);
  if (it == params.by_tier.end())
    throw InvalidArgument("param containers lists no containers for tier " + tier);
  std::vector<WantedContainer> out;
  for (const auto& name : it->second) {
    WantedContainer w{name, slug + "-" + name};
    if (!IsContainerName(w.container))
      throw InvalidArgument("container name '" + w.container +
                            "' is not a valid storage container name (3-63 lowercase letters, digits, single "
                            "hyphens): the slug is too long for it");
    out.push_back(std::move(w));
  }
  return out;
}

std::map<std::string, std::string> WantedMetadata(const std::string& tenant_id, const std::string& slug,
                                                  const std::string& name) {
  return {{kMetaTenantId, tenant_id},
          {kMetaTenantSlug, slug},
          {kMetaContainer, name},
          {kMetaManagedBy, "matih-provisioner"}};
}

}  // namespace matih::plugins::storage
