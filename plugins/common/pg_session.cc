#include "common/pg_session.h"

#include "common/sql_state.h"

namespace matih::plugins {

void RethrowAsStepError(const std::string& what) {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const pqxx::broken_connection& e) {
    throw TransientError(what + ": database unreachable: " + e.what());
  } catch (const pqxx::sql_error& e) {
    const std::string state = e.sqlstate();
    switch (StatusForSqlState(state)) {
      case MATIH_STATUS_ABORTED:
        throw Error(MATIH_STATUS_ABORTED, what + ": concurrent change, try again (SQLSTATE " + state + ")");
      case MATIH_STATUS_UNAVAILABLE:
        throw TransientError(what + ": database unavailable (SQLSTATE " + state + ")");
      case MATIH_STATUS_PERMISSION_DENIED:
        throw PermanentError(what + ": permission denied: " + e.what(), MATIH_STATUS_PERMISSION_DENIED);
      default: throw PermanentError(what + ": " + e.what());
    }
  } catch (const pqxx::in_doubt_error& e) {
    throw TransientError(what + ": commit outcome unknown: " + e.what());
  } catch (const std::exception& e) {
    throw Error(MATIH_STATUS_INTERNAL, what + ": " + e.what());
  }
}

PgSession::PgSession(const std::string& url) {
  try {
    connection_ = std::make_unique<pqxx::connection>(url);
  } catch (...) {
    RethrowAsStepError("connect to the control-plane database");
  }
}

}  // namespace matih::plugins
