#include "store/sql_state.h"

namespace matih::runner {

bool IsMissingSchema(std::string_view sqlstate) {
  return sqlstate == "42P01" || sqlstate == "3F000" || sqlstate == "42703";
}

Code CodeForSqlState(std::string_view sqlstate) {
  const std::string_view cls = sqlstate.substr(0, 2);
  if (cls == "08" || cls == "53" || cls == "57") return Code::kUnavailable;
  if (cls == "40" || sqlstate == "55P03") return Code::kAborted;
  if (cls == "23" || IsMissingSchema(sqlstate)) return Code::kFailedPrecondition;
  return Code::kInternal;
}

}  // namespace matih::runner
