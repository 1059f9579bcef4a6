// ReadPluginTable: reads and checks the table a plugin's matih_step_plugin_init returned (ABI
// version, names, kinds, declared settings, shared-secret patterns) and copies what the host keeps.
//
// The table is untrusted input: it comes from code the host has only just loaded. The reader
// never calls a function pointer of it and never reads past what the table says it holds: the
// table itself up to min(struct_size, sizeof(matih_plugin)), each kind and setting up to the
// smaller of the array's element size, the element's own struct_size and the host's struct, each
// array up to its count, and each string up to a fixed bound (a string without a NUL within its
// bound is refused, not followed). Counts and element sizes beyond sanity bounds are refused before
// any element is read. Anything malformed is InvalidArgument naming the plugin file and what is
// wrong, and never echoes the plugin's bytes unchecked (names are shown only once validated).
// Checks across plugins (a kind or plugin name exported twice) are the PluginHost's.
//
// Thread safety: pure; any thread (the host calls it from its one loading thread).
#pragma once

#include <matih/step_abi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace matih::runner {

// A [targets] setting a plugin declared (ABI 1.2).
struct DeclaredSetting {
  std::string name;  // key under [targets], "dns.api_url"
  std::string description;
  bool required = false;
  bool secret = false;
  bool key_file = false;  // MATIH_SETTING_KEY_FILE: checked at start (plugin_host/key_file.h)
};

// Bounds of a table the reader accepts; anything beyond is a corrupt table, not a plugin.
inline constexpr size_t kMaxPluginKinds = 4096;
inline constexpr size_t kMaxPluginSettings = 1024;
inline constexpr size_t kMaxPluginSharedSecrets = 1024;
inline constexpr size_t kMaxPluginElementBytes = 4096;  // kind_struct_size, setting_struct_size
inline constexpr size_t kMaxPluginNameBytes = 128;      // plugin, kind and setting names
inline constexpr size_t kMaxPluginVersionBytes = 64;
inline constexpr size_t kMaxPluginDescriptionBytes = 1024;
inline constexpr size_t kMaxSharedSecretBytes = 256;  // a secret name (the store's own limit)

// What the host keeps of a table that passed every check.
struct PluginTable {
  std::string name;     // letters, digits, '.', '_', '-': the plugin's secret namespace
  std::string version;  // printable ASCII, possibly empty
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
  std::string abi_version;  // "1.2"
  // Copies of the kinds, zero-filled past what the plugin's struct had, struct_size set to the
  // bytes actually copied. Names are valid and unique; on_observe/apply/remove are non-null.
  // The string and function pointers still point into the plugin ([static]).
  std::vector<matih_step_kind> kinds;
  // False for plugins older than ABI 1.2, which declare no settings and keep the legacy secret
  // namespace; settings and shared_secrets are then empty.
  bool declares_settings = false;
  std::vector<DeclaredSetting> settings;    // valid, unique names
  std::vector<std::string> shared_secrets;  // names, or prefixes ending in '*'
};

// `file` only names the plugin in messages. `table` may be null (refused).
Result<PluginTable> ReadPluginTable(const std::string& file, const matih_plugin* table);

}  // namespace matih::runner
