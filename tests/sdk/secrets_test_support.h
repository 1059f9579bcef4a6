// Helpers for the secret store tests: a throwaway database with the secrets table, and keys.
#pragma once

#include <cstdint>
#include <memory>

#include "secrets/secret_key.h"
#include "support/test_database.h"

namespace matih::testing {

// A new empty database with migrations 0002_secrets and 0003_secret_envelope applied (and nothing else: the
// store must work without the core schema).
std::unique_ptr<TestDatabase> CreateSecretsDatabase();
// A key of 32 bytes all equal to `fill`.
runner::SecretKey TestKey(std::uint8_t fill);

}  // namespace matih::testing
