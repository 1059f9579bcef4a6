#include "common/duration.h"

#include <cctype>
#include <cstdio>

namespace matih::runner {

Result<Millis> ParseDuration(std::string_view text, std::string_view what) {
  auto bad = [&] {
    return InvalidArgument(std::string(what) + ": '" + std::string(text) +
                           "' is not a duration (use e.g. 250ms, 30s, 15m, 24h, 7d)");
  };
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 12) return bad();
  long long n = std::stoll(std::string(text.substr(0, i)));
  std::string_view unit = text.substr(i);
  long long unit_ms;
  if (unit == "ms")
    unit_ms = 1;
  else if (unit == "s")
    unit_ms = 1000;
  else if (unit == "m")
    unit_ms = 60'000;
  else if (unit == "h")
    unit_ms = 3'600'000;
  else if (unit == "d")
    unit_ms = 86'400'000;
  else
    return bad();
  // Ten years: beyond it a deadline or a grace period added to "now" would overflow the clock.
  // Compared before multiplying: twelve digits of days overflow a long long (found by fuzzing).
  constexpr long long kMaxMs = 3650LL * 86'400'000;
  const long long ms = n <= kMaxMs / unit_ms ? n * unit_ms : kMaxMs + 1;
  if (ms > kMaxMs)
    return InvalidArgument(std::string(what) + ": '" + std::string(text) +
                           "' is longer than the limit of 3650d");
  return Millis(ms);
}

std::string FormatDuration(Millis d) {
  long long ms = d.count();
  char buf[64];
  if (ms < 1000)
    std::snprintf(buf, sizeof buf, "%lldms", ms);
  else if (ms < 60'000)
    std::snprintf(buf, sizeof buf, "%.1fs", ms / 1000.0);
  else if (ms < 3'600'000)
    std::snprintf(buf, sizeof buf, "%.1fm", ms / 60000.0);
  else if (ms < 86'400'000)
    std::snprintf(buf, sizeof buf, "%.1fh", ms / 3600000.0);
  else
    std::snprintf(buf, sizeof buf, "%.1fd", ms / 86400000.0);
  return buf;
}

}  // namespace matih::runner
