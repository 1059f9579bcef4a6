#include "secrets/secret_store.h"

namespace matih::runner {
namespace {

Status CannotFence(const std::string& tenant_id) {
  return FailedPrecondition("secret store: this store cannot check the lease on tenant " + tenant_id +
                            ", so it refuses a runner's write (use the built-in store)");
}

}  // namespace

Status SecretStore::PutFenced(const LeaseFence&, const std::string& tenant_id, const std::string&,
                              std::string_view) {
  return CannotFence(tenant_id);
}

Status SecretStore::DeleteFenced(const LeaseFence&, const std::string& tenant_id, const std::string&) {
  return CannotFence(tenant_id);
}

Status SecretStore::DeleteAllFenced(const LeaseFence&, const std::string& tenant_id) {
  return CannotFence(tenant_id);
}

}  // namespace matih::runner
