// RotateMasterKey: replaces the master key of the built-in secret store (SodiumSecretStore).
//
// In one transaction, with the store's tables locked against writers: checks that every tenant
// data key is wrapped by `old_key` and opens with it, re-seals under the tenant's data key every
// value still sealed directly by the old key (rows from before envelope encryption), then re-wraps
// every data key under `new_key`. The values sealed with data keys are not read, decrypted or
// rewritten. Anything wrong (the old key is not the key in use, a row does not open) rolls the
// whole transaction back: FailedPrecondition naming the problem, nothing changed. Database
// unreachable: Unavailable. Opens its own connection; any thread may call it, runners using the
// store should be idle (between batch passes): they must be restarted with the new key.
#pragma once

#include <string>

#include "common/status.h"
#include "secrets/secret_key.h"

namespace matih::runner {

struct KeyRotationReport {
  int data_keys_rewrapped = 0;     // tenants whose data key is now wrapped by the new key
  int legacy_values_migrated = 0;  // values moved from the old key to their tenant's data key
  int data_keys_created = 0;       // data keys made for tenants that only had legacy values
};

Result<KeyRotationReport> RotateMasterKey(const std::string& database_url, const SecretKey& old_key,
                                          const SecretKey& new_key);

}  // namespace matih::runner
