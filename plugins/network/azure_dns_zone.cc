#include "network/azure_dns_zone.h"

#include "common/settings.h"
#include "network/azure_dns_client.h"

namespace matih::plugins::network {
namespace {

struct Azure {
  AzureDnsClient client;
  std::string group, parent_group;

  explicit Azure(const Context& ctx)
      : client(SettingOr(ctx, "network.azure_dns_url", "https://management.azure.com"),
               ctx.required_setting("network.azure_subscription_id"), Token(ctx),
               std::chrono::milliseconds(ParseCount("network.http_timeout_ms",
                                                    SettingOr(ctx, "network.http_timeout_ms", "10000")))),
        group(ctx.required_setting("network.azure_resource_group")),
        parent_group(SettingOr(ctx, "network.azure_parent_resource_group", group)) {}

  static std::string Token(const Context& ctx) {
    auto token = ctx.setting("network.azure_access_token");
    if (!token || token->empty())
      throw PermanentError("missing runner setting targets.network.azure_access_token");
    return *token;
  }

  void RequireParent(const TenantZone& call) const {
    if (!client.GetZone(parent_group, call.params.parent_zone))
      throw PermanentError("parent zone " + call.params.parent_zone +
                           " does not exist in Azure DNS (resource group " + parent_group + ")");
  }
};

// The host records the step wants (Azure keeps SOA and apex NS itself).
std::vector<RRSet> HostRecords(const TenantZone& call) {
  std::vector<RRSet> out;
  for (const auto& set : call.desired)
    if (set.type != "SOA" && set.type != "NS") out.push_back(set);
  return out;
}

RRSetMap WithoutAzureOwned(RRSetMap sets, const std::string& zone) {
  sets.erase({zone, "SOA"});
  sets.erase({zone, "NS"});
  return sets;
}

RRSet Delegation(const TenantZone& call, const std::vector<std::string>& nameservers) {
  return {call.zone, "NS", call.params.ttl, nameservers};
}

RRSetMap Current(const std::optional<RRSet>& set) {
  RRSetMap out;
  if (set) out[{set->name, set->type}] = *set;
  return out;
}

}  // namespace

Observation AzureObserveZone(const Context& ctx, const TenantZone& call) {
  const Azure azure(ctx);
  azure.RequireParent(call);
  auto nameservers = azure.client.GetZone(azure.group, call.zone);
  auto delegated = azure.client.GetRecordSet(azure.parent_group, call.params.parent_zone, call.zone, "NS");
  if (!nameservers)
    return delegated ? Observation::Drifted("zone " + call.zone + " is missing") : Observation::Absent();
  std::vector<std::string> lines;
  auto d = Diff(HostRecords(call),
                WithoutAzureOwned(azure.client.ListRecordSets(azure.group, call.zone), call.zone), true);
  lines.insert(lines.end(), d.lines.begin(), d.lines.end());
  auto del = Diff({Delegation(call, *nameservers)}, Current(delegated), false);
  for (const auto& l : del.lines) lines.push_back("parent " + call.params.parent_zone + ": " + l);
  if (lines.empty()) return Observation::InSync();
  if (lines.size() > 4) lines.resize(4), lines.push_back("...");
  return Observation::Drifted(Join(lines, "; "));
}

std::vector<std::string> AzureApplyZone(const Context& ctx, const TenantZone& call) {
  const Azure azure(ctx);
  azure.RequireParent(call);
  auto nameservers = azure.client.GetZone(azure.group, call.zone);
  if (!nameservers) {
    ctx.info("creating Azure DNS zone " + call.zone);
    nameservers = azure.client.PutZone(azure.group, call.zone);
  }
  auto d = Diff(HostRecords(call),
                WithoutAzureOwned(azure.client.ListRecordSets(azure.group, call.zone), call.zone), true);
  if (!d.empty()) ctx.info("repairing Azure DNS zone " + call.zone + ": " + Join(d.lines, "; "));
  for (const auto& set : d.replace) azure.client.PutRecordSet(azure.group, call.zone, set);
  for (const auto& [name, type] : d.remove) azure.client.DeleteRecordSet(azure.group, call.zone, name, type);
  auto delegated = azure.client.GetRecordSet(azure.parent_group, call.params.parent_zone, call.zone, "NS");
  auto del = Diff({Delegation(call, *nameservers)}, Current(delegated), false);
  if (!del.empty()) {
    ctx.info("delegating " + call.zone + " from " + call.params.parent_zone + " to " + Join(*nameservers));
    azure.client.PutRecordSet(azure.parent_group, call.params.parent_zone, Delegation(call, *nameservers));
  }
  return *nameservers;
}

void AzureRemoveZone(const Context& ctx, const TenantZone& call) {
  const Azure azure(ctx);
  if (azure.client.GetZone(azure.parent_group, call.params.parent_zone))
    azure.client.DeleteRecordSet(azure.parent_group, call.params.parent_zone, call.zone, "NS");
  azure.client.DeleteZone(azure.group, call.zone);
}

}  // namespace matih::plugins::network
