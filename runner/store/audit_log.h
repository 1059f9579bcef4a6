// AuditLog: the append-only, hash-chained trail of everything that happens to a tenant.
//
// Each tenant has its own chain: event n stores hash_n = SHA-256(hash_{n-1} "\n" canonical(event
// n)), and the tenant row holds the newest sequence number and hash, so a deleted last event is
// found too. A trigger refuses UPDATE, DELETE and TRUNCATE on the table (0001_core.sql); Verify
// finds what a superuser changed behind the trigger's back. Append must run inside a transaction
// that may lock the tenant row; it is then safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/database.h"

namespace matih::runner {

struct AuditEvent {
  std::string event;  // "tenant.claimed", "step.started", "transition", "operator.rollback", ...
  std::optional<int> step_number;
  std::string step_name;
  std::string plugin;
  std::string plugin_version;
  nlohmann::json details = nlohmann::json::object();  // strings and integers only; never secrets
};

struct AuditRow {
  int64_t seq = 0;
  std::string created_at;
  std::string run_id;
  std::string runner;
  AuditEvent event;
  std::string hash;
};

struct AuditProblem {
  std::string slug;
  int64_t seq = 0;
  std::string what;
};

class AuditLog {
 public:
  // Appends `events` to the tenant's chain in `tx`, in order, stamped with the database clock.
  // Returns the chain's new head ("" when there was nothing to append).
  static std::string Append(pqxx::work& tx, const std::string& tenant_id, const std::string& run_id,
                            const std::string& runner, const std::vector<AuditEvent>& events);

  // The tenant's events, oldest first.
  static Result<std::vector<AuditRow>> History(const Database& db, const std::string& tenant_id);

  // Checks every chain (or one tenant's): the first problem per tenant, empty when all verify.
  static Result<std::vector<AuditProblem>> Verify(const Database& db, const std::optional<std::string>& slug);

  // The canonical text hashed for one event; exposed for tests.
  static std::string Canonical(int64_t seq, const std::string& tenant_id, const std::string& created_at,
                               const std::string& run_id, const std::string& runner, const AuditEvent& e);
  static std::string ChainHash(const std::string& prev_hash, const std::string& canonical);

  // Chains `events` of one tenant after its head (`seq`, `prev`), stamped `now`: appends one row
  // per event to `rows` (seq, event, step fields, details, prev_hash, hash, and tenant_id when
  // `with_tenant`), the shape the append statements read with jsonb_to_recordset, and moves `seq`
  // and `prev` to the new head.
  static void ChainRows(const std::string& tenant_id, const std::string& now, const std::string& run_id,
                        const std::string& runner, const std::vector<AuditEvent>& events, bool with_tenant,
                        int64_t& seq, std::string& prev, nlohmann::json& rows);
};

}  // namespace matih::runner
