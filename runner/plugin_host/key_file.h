// Key-file settings: the check a run or plan makes at start on every [targets] setting a plugin
// declared with MATIH_SETTING_KEY_FILE (sdk/include/matih/step_abi.h), so a bad key file is
// refused before anything is claimed instead of failing the step that reads it mid-run.
//
// A key file must exist, be a regular file (a symlink to one is followed), grant group and others
// no access, be at most 4 KiB, and hold a key of at least kMinKeyBytes: its content with
// surrounding whitespace trimmed is read as hex when it is only hex digits (2 per byte), as
// base64 when it is well-formed padded base64, and as raw bytes otherwise. The key itself is never
// part of a message, and the buffer it was read into is wiped.
//
// Thread safety: stateless functions, callable from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace matih::runner {

inline constexpr std::size_t kMinKeyBytes = 32;

// OK, or FailedPrecondition naming `setting` ("targets.<key>"), the file and the problem.
Status CheckKeyFile(const std::string& setting, const std::string& path);

// How many key bytes `content` (already trimmed) encodes, by the rule above.
std::size_t KeyBytes(std::string_view content);

}  // namespace matih::runner
