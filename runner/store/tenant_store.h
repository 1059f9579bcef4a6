// TenantStore: reading and changing tenant rows outside of a run (CLI, operator commands).
//
// Operator commands lock the row, refuse a tenant that a runner holds a live lease on, check the
// move with the StateMachine, bump the lease epoch (so a runner that held a stale lease can no
// longer write) and record an audit event, all in one transaction. Safe from any thread; each
// call uses its own connection.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/tenant_record.h"
#include "store/audit_log.h"
#include "store/database.h"

namespace matih::runner {

struct NewTenant {
  std::string slug;
  std::string tier;
  std::string region;
  std::string admin_email;
  std::string spec_json = "{}";
};

// What an operator command wants changed; unset fields stay as they are.
struct TenantChange {
  std::optional<TenantStatus> status;
  std::optional<std::string> tier;
  bool bump_generation = false;
  bool reset_attempts = false;
  bool reconcile_now = false;                 // due for a drift pass on the next run
  std::optional<int> resume_from_step;        // steps >= this are set back to PENDING
  std::optional<std::string> deletion_grace;  // a PostgreSQL interval, e.g. "604800 seconds"
  AuditEvent audit;
};

class TenantStore {
 public:
  explicit TenantStore(const Database& db) : db_(db) {}

  // Adds a PENDING tenant; InvalidArgument when the slug exists. No step rows are written: a
  // step without a row is PENDING (never run), and the run that first claims the tenant writes
  // each step's row as it works it (TenantSession's flush upserts them).
  Result<TenantRecord> Add(const NewTenant& tenant, const std::string& actor);
  // Adds every tenant of `tenants` as `Add` does (the same statements), in one transaction and a
  // fixed number of statements whatever their count: all of them, or none (InvalidArgument naming
  // the slugs that exist already). Returns the number added.
  Result<size_t> AddMany(const std::vector<NewTenant>& tenants, const std::string& actor);
  // Which of `slugs` exist already.
  Result<std::vector<std::string>> Existing(const std::vector<std::string>& slugs) const;
  Result<TenantRecord> Get(const std::string& slug) const;
  // Tenants by slug, optionally of one status: those after `after` (keyset paging, an index
  // scan of the slug index), at most `limit` of them (0: all).
  Result<std::vector<TenantRecord>> List(std::optional<TenantStatus> status, const std::string& after = "",
                                         size_t limit = 0) const;
  Result<std::vector<StepRecord>> Steps(const std::string& tenant_id) const;
  // The number of tenants in each status (every status present, 0 when none), by GROUP BY.
  Result<std::map<std::string, int>> CountByStatus() const;

  // Runs an operator command: `decide` sees the locked row and returns the change or an error.
  Result<TenantRecord> Command(const std::string& slug, const std::string& actor,
                               const std::function<Result<TenantChange>(const TenantRecord&)>& decide);

  // The tenant's step records, by number, read in `tx`.
  static std::vector<StepRecord> ReadSteps(pqxx::transaction_base& tx, const std::string& tenant_id);
  // The step records of every tenant of `ids` (UUIDs), by tenant id then number, 128 tenants a
  // statement; a tenant without rows maps to an empty map. For the engine: without the times
  // (started_at, finished_at stay empty), which it never reads and PostgreSQL spends a third of
  // the statement formatting.
  static std::map<std::string, std::map<int, StepRecord>> ReadStepsOf(pqxx::transaction_base& tx,
                                                                      const std::vector<std::string>& ids);
  static TenantRecord FromRow(const pqxx::row& r);
  static const char* Columns();  // the SELECT list FromRow reads

 private:
  // Inserts `tenants` and their first audit events in `tx`; the ids of those inserted, or
  // InvalidArgument naming the slugs that exist already (then the caller's transaction rolls back).
  static Result<std::vector<std::string>> Insert(pqxx::work& tx, const std::vector<NewTenant>& tenants,
                                                 const std::string& actor);

  const Database& db_;
};

}  // namespace matih::runner
