// TenantContainers: what step 15 wants for one tenant, computed from the catalog params, the
// tenant's slug and tier: the container names `<slug>-<name>`, the metadata naming the tenant, and
// the stored access policy's permissions and lifetime.
//
// Params of storage.containers:
//   containers:  {<tier>: [name, ...]}  required; names are lowercase letters, digits and single
//                                       hyphens (e.g. raw, curated, models)
//   permissions: stored policy permissions, a subset of "racwdl" (default racwdl)
//   policy_days: lifetime of the stored policy, renewed when less than a quarter is left
//                (default 365)
//   account_step: the step whose output account_name names the account (default
//                create-storage-account)
// Immutable; safe from any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace matih::plugins::storage {

// Metadata keys (lowercase C# identifiers, as Azure requires).
inline constexpr const char* kMetaTenantId = "matih_tenant_id";
inline constexpr const char* kMetaTenantSlug = "matih_tenant_slug";
inline constexpr const char* kMetaContainer = "matih_container";
inline constexpr const char* kMetaManagedBy = "matih_managed_by";
// Stored access policies this plugin owns start with this; others on a container are kept.
inline constexpr const char* kPolicyPrefix = "matih-";
// Secret names (plugin namespace): "sas/<name>" holds the SAS query string of container <name>.
inline constexpr const char* kSasSecretPrefix = "sas/";

struct ContainerParams {
  std::map<std::string, std::vector<std::string>> by_tier;
  std::string permissions = "racwdl";
  int policy_days = 365;
  std::string account_step = "create-storage-account";

  // InvalidArgument naming the problem.
  static ContainerParams Parse(std::string_view params_json);
};

struct WantedContainer {
  std::string name;       // catalog name: raw
  std::string container;  // <slug>-raw
};

// The tenant's containers; InvalidArgument when the tier has none or a name is not a valid
// container name (3-63 characters).
std::vector<WantedContainer> WantedContainers(const ContainerParams& params, const std::string& slug,
                                              const std::string& tier);
std::map<std::string, std::string> WantedMetadata(const std::string& tenant_id, const std::string& slug,
                                                  const std::string& name);
// True for a valid Azure container name.
bool IsContainerName(std::string_view name);

}  // namespace matih::plugins::storage
