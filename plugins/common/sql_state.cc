#include "common/sql_state.h"

namespace matih::plugins {

matih_status StatusForSqlState(std::string_view sqlstate) {
  const std::string_view cls = sqlstate.substr(0, 2);
  if (cls == "08" || cls == "53" || cls == "57") return MATIH_STATUS_UNAVAILABLE;
  if (cls == "40" || sqlstate == "55P03") return MATIH_STATUS_ABORTED;
  if (sqlstate == "42501") return MATIH_STATUS_PERMISSION_DENIED;
  return MATIH_STATUS_FAILED_PRECONDITION;
}

bool IsTransientSqlState(std::string_view sqlstate) {
  const matih_status status = StatusForSqlState(sqlstate);
  return status == MATIH_STATUS_UNAVAILABLE || status == MATIH_STATUS_ABORTED;
}

}  // namespace matih::plugins
