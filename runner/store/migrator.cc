#include "store/migrator.h"

#include "store/migrations.h"

namespace matih::runner {
namespace {

// pg_advisory_xact_lock(int, int) keys: "matih" / "migrate".
constexpr const char* kLockSql = "SELECT pg_advisory_xact_lock(1835103336, 1)";

constexpr const char* kVersionTableSql =
    "CREATE SCHEMA IF NOT EXISTS matih;"
    "CREATE TABLE IF NOT EXISTS matih.schema_version ("
    "  name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())";

}  // namespace

Result<std::vector<std::string>> Migrator::Migrate() {
  auto conn = db_.Connect();
  if (!conn.ok()) return conn.status();
  std::vector<std::string> applied;
  for (const Migration& m : EmbeddedMigrations()) {
    bool done = false;
    Status s = Database::InTransaction(**conn, [&](pqxx::work& tx) {
      tx.exec(kLockSql);
      tx.exec(kVersionTableSql);
      if (!tx.exec_params("SELECT 1 FROM matih.schema_version WHERE name = $1", m.name).empty()) {
        done = true;
        return Status::Ok();
      }
      tx.exec(m.sql);
      tx.exec_params("INSERT INTO matih.schema_version (name) VALUES ($1)", m.name);
      return Status::Ok();
    });
    if (!s.ok()) return Status(s.code(), "migration " + m.name + " failed: " + s.message());
    if (!done) applied.push_back(m.name);
  }
  return applied;
}

Result<std::vector<std::string>> Migrator::Applied() {
  auto conn = db_.Connect();
  if (!conn.ok()) return conn.status();
  std::vector<std::string> names;
  Status s = Guard("read schema version", [&] {
    pqxx::nontransaction tx(**conn);
    auto exists = tx.exec("SELECT to_regclass('matih.schema_version') IS NOT NULL");
    if (!exists[0][0].as<bool>()) return Status::Ok();
    for (const auto& row : tx.exec("SELECT name FROM matih.schema_version ORDER BY name")) {
      names.push_back(row[0].as<std::string>());
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return names;
}

}  // namespace matih::runner
