// SecretStore: per-tenant secrets (invite tokens, API keys, passwords).
//
// Values are never logged, never written to step outputs or audit details, and never part of an
// error message. Implementations must be safe to call from any thread.
//
// Writes come in two forms. Put/Delete/DeleteAll are an operator's (CLI commands, tests): no
// lease. The *Fenced forms are a runner's, on behalf of a tenant it claimed: in the same
// transaction as the write, the tenant's row in matih.tenants must still carry the lease (owner
// and epoch) the runner claimed it with, else the write is refused with Aborted ("lease lost")
// and nothing changes -- the fencing TenantSession applies to every other write of a claimed
// tenant. Reads are never fenced. A step's writes are fenced by the StepCall's lease_owner and
// lease_epoch (plugin_host/host_services.cc, isolation/worker_pool.cc), deprovisioning's
// DeleteAll by the tenant session's lease (engine/orchestrator.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace matih::runner {

// The lease a runner holds on a tenant (store/claim_query.h's Lease, without the dependency).
struct LeaseFence {
  std::string owner;
  int64_t epoch = 0;
};

class SecretStore {
 public:
  virtual ~SecretStore() = default;
  // Stores or replaces `name` for the tenant.
  virtual Status Put(const std::string& tenant_id, const std::string& name, std::string_view value) = 0;
  // The value, or NotFound.
  virtual Result<std::string> Get(const std::string& tenant_id, const std::string& name) = 0;
  // Removes one secret; OK when it was absent.
  virtual Status Delete(const std::string& tenant_id, const std::string& name) = 0;
  // Removes every secret of the tenant (deprovisioning).
  virtual Status DeleteAll(const std::string& tenant_id) = 0;

  // The same, refused with Aborted and nothing changed unless the tenant's lease is still
  // `fence`. A store that cannot see the tenants' leases refuses every fenced write
  // (FailedPrecondition) rather than write unfenced.
  virtual Status PutFenced(const LeaseFence& fence, const std::string& tenant_id, const std::string& name,
                           std::string_view value);
  virtual Status DeleteFenced(const LeaseFence& fence, const std::string& tenant_id, const std::string& name);
  virtual Status DeleteAllFenced(const LeaseFence& fence, const std::string& tenant_id);
};

}  // namespace matih::runner
