// Durations as operators write them: "250ms", "30s", "15m", "24h", "7d" (one number, one unit).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace matih::runner {

using Millis = std::chrono::milliseconds;

// The duration, or InvalidArgument naming `what` and the text.
Result<Millis> ParseDuration(std::string_view text, std::string_view what);
// "1.5s", "250ms", "2m", "3h", "7d".
std::string FormatDuration(Millis d);

}  // namespace matih::runner
