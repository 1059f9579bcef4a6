// storage.containers (step 15, create-storage-containers): the tenant's containers in the account
// step 14 recorded, each private, with metadata naming the tenant, one stored access policy of
// ours ("matih-<random>") and a service SAS bound to that policy in the secret store.
//
// Containers are `<slug>-<name>` for the names params list for the tenant's tier
// (tenant_containers.h). The SAS of container <name> is secret "sas/<name>" (shared with other
// plugins as "sas/*"): a query string sv=..&sr=c&si=<policy id>&sig=.., whose permissions and
// lifetime come from the stored policy, so deleting or replacing the policy revokes it. A container
// ACL write replaces the whole list: apply reads the list, keeps the policies of others, puts ours,
// and writes it back with If-Unmodified-Since (a concurrent change -> ABORTED, retried). apply
// ends with a data-plane call (list blobs) with each SAS, and writes nothing when the containers
// already match. observe compares existence, metadata, public access, our policy (permissions,
// lifetime) and the stored SAS (bound to that policy, signed with the current key), and lists the
// tenant's containers that the params no longer name; ABSENT when none of them exists. remove
// deletes the tenant's containers (only those whose metadata names the tenant) and their SAS
// secrets. Outputs: account_name, containers, set by apply and by an observe that finds the
// containers in sync. The kind is adoptable: the containers are named by the slug and the params,
// our policy is found by its "matih-" prefix, a SAS missing from the secret store is observed
// DRIFTED and put again, and apply again creates nothing twice. Safe to call from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::storage {

class ContainersStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::storage
