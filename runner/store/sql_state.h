// CodeForSqlState: the runner's one table from a PostgreSQL SQLSTATE to a Status code.
//
// Every runner module that talks to PostgreSQL (store/database.cc, secrets/) classifies a server
// error here, so a class means the same everywhere. Retryable (transient):
//   08 connection exception, 53 insufficient resources (too many connections, out of memory or
//   disk: the server recovers), 57 operator intervention (shutdown, cannot connect now, query
//   cancelled) -> Unavailable;
//   40 transaction rollback (serialization failure, deadlock), 55P03 lock not available -> Aborted.
// Permanent:
//   23 integrity constraint violation, and a missing schema, table or column (42P01, 3F000,
//   42703: the migrations were not applied) -> FailedPrecondition;
//   anything else -> Internal.
// The plugins' side of the ABI has its own table with the same classes (plugins/common/sql_state.h).
// Stateless; safe from any thread.
#pragma once

#include <string_view>

#include "common/status.h"

namespace matih::runner {

Code CodeForSqlState(std::string_view sqlstate);
// 42P01, 3F000, 42703: the database lacks what the migrations create.
bool IsMissingSchema(std::string_view sqlstate);

}  // namespace matih::runner
