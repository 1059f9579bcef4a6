// AuditSearch: the fleet's audit trail filtered — every tenant or one, since a time, for one
// step, for one event (or an event prefix) — for `history --all` ("what changed last night").
//
// Reads through the indexes of 0005_fleet_status.sql (created_at; event, created_at), newest
// first up to a limit, and counts what the limit left out, so an operator knows the answer is
// partial. Rows are the same AuditRow the per-tenant history reads, plus the tenant's slug.
// Safe from any thread; each call opens its own connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/status.h"
#include "store/audit_log.h"
#include "store/database.h"

namespace matih::runner {

struct AuditFilter {
  std::optional<std::string> slug;       // one tenant; none = the whole fleet
  std::optional<Millis> since;           // events newer than now() - since
  std::optional<int> step_number;        // events of this step
  std::optional<std::string> step_name;  // ... or of the step with this name
  std::optional<std::string> event;      // exact event, or a prefix when it ends in '*'
  int limit = 1000;                      // at most this many rows (the newest)
};

struct AuditSearchRow {
  std::string slug;
  AuditRow row;
};

struct AuditSearchResult {
  std::vector<AuditSearchRow> rows;  // oldest first
  int64_t left_out = 0;              // older matching events beyond the limit
};

class AuditSearch {
 public:
  // NotFound when `filter.slug` names no tenant; InvalidArgument for a limit below 1.
  static Result<AuditSearchResult> Find(const Database& db, const AuditFilter& filter);
};

}  // namespace matih::runner
