// SecretStore: per-tenant secrets (invite tokens, API keys, passwords).
//
// Values are never logged, never written to step outputs or audit details, and never part of an
// error message. Implementations must be safe to call from any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace matih::runner {

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
};

}  // namespace matih::runner
