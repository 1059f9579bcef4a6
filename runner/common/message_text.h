// ShownInMessage: a value as an error message or log line shows it. Pure; safe from any thread.
#pragma once

#include <string>

namespace matih::runner {

// At most 60 bytes, control characters and non-ASCII bytes as \xNN, so a hostile argument can
// neither rewrite the operator's terminal or a log line nor carry invalid UTF-8 into JSON output.
std::string ShownInMessage(const std::string& value);

}  // namespace matih::runner
