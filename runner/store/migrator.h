// Migrator: brings a database to the newest schema of EmbeddedMigrations().
//
// Each migration runs in its own transaction with its row in matih.schema_version; a
// transaction-level advisory lock (two-int form, so it never meets Terraform's one-bigint locks)
// lets several runners migrate at once safely. Idempotent.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "store/database.h"

namespace matih::runner {

class Migrator {
 public:
  explicit Migrator(const Database& db) : db_(db) {}
  // Applies what is missing; returns the names applied now (empty when up to date).
  Result<std::vector<std::string>> Migrate();
  // Names of applied migrations, in order; an empty list for a fresh database.
  Result<std::vector<std::string>> Applied();

 private:
  const Database& db_;
};

}  // namespace matih::runner
