// FencedSecretStore: a SecretStore whose every write is fenced by one lease.
//
// What a claimed tenant's steps are handed as their secret store: Put, Delete and DeleteAll go
// to the inner store's *Fenced forms with the runner's lease on the tenant, so a runner whose
// lease was taken over (by another runner or an operator) changes no secret; Get reads
// unfenced. The inner store must outlive this object. Safe to call from any thread, as the
// inner store is; the fence itself never changes.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "secrets/secret_store.h"

namespace matih::runner {

class FencedSecretStore final : public SecretStore {
 public:
  FencedSecretStore(SecretStore& inner, LeaseFence fence) : inner_(inner), fence_(std::move(fence)) {}

  const LeaseFence& fence() const { return fence_; }

  Status Put(const std::string& tenant_id, const std::string& name, std::string_view value) override {
    return inner_.PutFenced(fence_, tenant_id, name, value);
  }
  Result<std::string> Get(const std::string& tenant_id, const std::string& name) override {
    return inner_.Get(tenant_id, name);
  }
  Status Delete(const std::string& tenant_id, const std::string& name) override {
    return inner_.DeleteFenced(fence_, tenant_id, name);
  }
  Status DeleteAll(const std::string& tenant_id) override {
    return inner_.DeleteAllFenced(fence_, tenant_id);
  }

  // Already fenced: a second fence would be a second lease, which a runner never holds.
  Status PutFenced(const LeaseFence& fence, const std::string& tenant_id, const std::string& name,
                   std::string_view value) override {
    return inner_.PutFenced(fence, tenant_id, name, value);
  }
  Status DeleteFenced(const LeaseFence& fence, const std::string& tenant_id,
                      const std::string& name) override {
    return inner_.DeleteFenced(fence, tenant_id, name);
  }
  Status DeleteAllFenced(const LeaseFence& fence, const std::string& tenant_id) override {
    return inner_.DeleteAllFenced(fence, tenant_id);
  }

 private:
  SecretStore& inner_;
  const LeaseFence fence_;
};

}  // namespace matih::runner
