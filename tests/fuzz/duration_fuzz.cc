// Fuzzes ParseDuration (runner/common/duration.cc): any text either parses to a duration between
// 0 and the 3650-day limit, or is refused with a message naming the setting; FormatDuration of an
// accepted value never crashes.
#include <string>
#include <string_view>

#include "common/duration.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = matih::runner::ParseDuration(text, "run.lease");
  if (!parsed.ok()) {
    matih::fuzz::Require(parsed.status().code() == matih::runner::Code::kInvalidArgument,
                         "refusal is not InvalidArgument");
    matih::fuzz::Require(parsed.status().message().rfind("run.lease: ", 0) == 0,
                         "refusal does not name the setting");
    return 0;
  }
  const long long ms = parsed->count();
  matih::fuzz::Require(ms >= 0 && ms <= 3650LL * 86'400'000, "accepted a duration outside 0..3650d");
  const std::string shown = matih::runner::FormatDuration(*parsed);
  matih::fuzz::Require(!shown.empty(), "FormatDuration returned nothing");
  return 0;
}
