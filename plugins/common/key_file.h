// ReadKeyFile: reads a plugin's key file (a [targets] setting declared MATIH_SETTING_KEY_FILE)
// by the same rule as the runner's start check (runner/plugin_host/key_file.h), so a key the
// runner would refuse at start is refused by the step too, whoever calls it (plugins try, a test
// harness, an older runner that does not check key files):
//   a regular file (a symlink to one is followed), no group or other access, at most 4 KiB, and at
//   least kMinKeyFileBytes key bytes: the content with surrounding whitespace trimmed counts as
//   hex when it is only hex digits (2 per byte), as base64 when it is well-formed padded base64,
//   and as raw bytes otherwise.
// The key material handed back is that trimmed text, unchanged (its users hash with it as it is).
// Messages name the setting and the file, never the key. Stateless; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace matih::plugins {

inline constexpr std::size_t kMinKeyFileBytes = 32;

// The trimmed key text; PermanentError naming `setting` ("targets.<key>") and the problem.
std::string ReadKeyFile(const std::string& setting, const std::string& path);

// How many key bytes `content` (already trimmed) encodes, by the rule above.
std::size_t KeyFileBytes(std::string_view content);

}  // namespace matih::plugins
