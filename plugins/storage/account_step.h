// storage.account (step 14, create-storage-account): the storage account that holds the tenant's
// containers.
//
// Shared placement (FREE, STARTER by default): the account of setting storage.shared_account;
// apply checks that it answers and accepts its key. Dedicated placement (PROFESSIONAL,
// ENTERPRISE): an account of setting storage.dedicated_accounts claimed atomically for the
// tenant (account_pool.h), checked the same way. Outputs: account_name, blob_endpoint, placement
// (never a key). observe: ABSENT until the account is recorded (outputs; for dedicated, a pool
// row), DRIFTED when the recorded account is not the one the tenant should use, IN_SYNC when it
// answers. remove releases a dedicated account after deleting the containers in it that carry
// the tenant's id in their metadata (so the next tenant gets it clean); for shared placement the
// shared account stays and nothing is changed.
// Params: {placement: {<tier>: shared|dedicated}} (default free/starter shared,
// professional/enterprise dedicated). Safe to call from any thread.
#pragma once

#include <matih/step.hpp>
#include <string>

namespace matih::plugins::storage {

class AccountStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;

  // "shared" or "dedicated" for `tier` under `params_json`; InvalidArgument on bad params.
  static std::string Placement(std::string_view params_json, const std::string& tier);
};

}  // namespace matih::plugins::storage
