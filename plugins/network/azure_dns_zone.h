// Step 41 on Azure DNS (setting network.dns_backend = azure): the tenant's zone as an Azure DNS
// zone in network.azure_resource_group, its host records, and the NS record set "<slug>" in the
// parent zone (in network.azure_parent_resource_group, default the same group) listing the name
// servers Azure assigned to the tenant's zone. Azure owns the zone's SOA and apex NS, so those are
// neither written nor compared; any other record set in the tenant's zone is drift and is deleted.
//
// Settings: network.azure_dns_url (https://management.azure.com), network.azure_subscription_id,
// network.azure_resource_group, network.azure_parent_resource_group, network.azure_access_token
// (secret; a bearer token for management.azure.com), network.http_timeout_ms.
// Stateless; safe from any thread.
#pragma once

#include <matih/step.hpp>
#include <string>
#include <vector>

#include "network/zone_diff.h"

namespace matih::plugins::network {

Observation AzureObserveZone(const Context& ctx, const TenantZone& call);
// Converges; answers the name servers the tenant's zone is delegated to.
std::vector<std::string> AzureApplyZone(const Context& ctx, const TenantZone& call);
void AzureRemoveZone(const Context& ctx, const TenantZone& call);

}  // namespace matih::plugins::network
