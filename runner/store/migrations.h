// Migrations: the versioned schema of the runner's database.
//
// Each file store/migrations/NNNN_name.sql is embedded at build time and applied once, in order,
// in its own transaction, recorded in matih.schema_version. Applying is idempotent.
#pragma once

#include <string>
#include <vector>

namespace matih::runner {

struct Migration {
  std::string name;  // "0001_core"
  std::string sql;
};

const std::vector<Migration>& EmbeddedMigrations();

}  // namespace matih::runner
