#include "common/pg_session.h"

namespace matih::plugins {
namespace {

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

void RethrowAsStepError(const std::string& what) {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const pqxx::broken_connection& e) {
    throw TransientError(what + ": database unreachable: " + e.what());
  } catch (const pqxx::sql_error& e) {
    const std::string state = e.sqlstate();
    if (StartsWith(state, "40") || state == "55P03")
      throw Error(MATIH_STATUS_ABORTED, what + ": concurrent change, try again (SQLSTATE " + state + ")");
    if (StartsWith(state, "08") || StartsWith(state, "53") || StartsWith(state, "57P"))
      throw TransientError(what + ": database unavailable (SQLSTATE " + state + ")");
    if (state == "42501")
      throw PermanentError(what + ": permission denied: " + e.what(), MATIH_STATUS_PERMISSION_DENIED);
    throw PermanentError(what + ": " + e.what());
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
