// StatusForSqlState: the plugins' one table from a PostgreSQL SQLSTATE to a step ABI status.
//
// Every plugin that talks to PostgreSQL classifies a server error here (through
// RethrowAsStepError in pg_session.h, or directly), so a class means the same in every plugin:
//   08 connection exception, 53 insufficient resources (too many connections, out of memory or
//   disk: the server recovers), 57 operator intervention (shutdown, cannot connect now, query
//   cancelled) -> UNAVAILABLE (transient);
//   40 transaction rollback (serialization failure, deadlock), 55P03 lock not available ->
//   ABORTED (transient: the host retries the whole call);
//   42501 insufficient privilege -> PERMISSION_DENIED;
//   anything else -> FAILED_PRECONDITION (permanent: constraint, syntax, missing object).
// The runner's side of the ABI has the same classes (runner/store/sql_state.h).
// Stateless; safe from any thread.
#pragma once

#include <matih/step_abi.h>

#include <string_view>

namespace matih::plugins {

matih_status StatusForSqlState(std::string_view sqlstate);
// True for UNAVAILABLE and ABORTED: the same call may succeed later.
bool IsTransientSqlState(std::string_view sqlstate);

}  // namespace matih::plugins
