#include "plugin_host/plugin_table.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace matih::runner {
namespace {

// The smallest structs the host accepts: those of ABI 1.0, the first release.
constexpr size_t kMinPluginSize = offsetof(matih_plugin, kind_struct_size) + sizeof(size_t);
constexpr size_t kMinKindSize = offsetof(matih_step_kind, on_remove) + sizeof(void*);
constexpr size_t kMinSettingSize = offsetof(matih_setting, description) + sizeof(const char*);

std::string HostAbi() {
  return std::to_string(MATIH_STEP_ABI_VERSION_MAJOR) + "." + std::to_string(MATIH_STEP_ABI_VERSION_MINOR);
}

// The NUL-terminated string at `p`, reading at most max + 1 bytes: false (and nothing read past
// that) when there is no NUL within max bytes. A null pointer reads as "".
bool BoundedString(const char* p, size_t max, std::string& out) {
  out.clear();
  if (p == nullptr) return true;
  for (size_t i = 0; i <= max; ++i) {
    if (p[i] == '\0') {
      out.assign(p, i);
      return true;
    }
  }
  return false;
}

bool IsNameChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// A plugin or kind name: letters, digits, '.', '_', '-'.
bool IsName(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return IsNameChar(static_cast<unsigned char>(c)); });
}

// A setting key, or a family of keys ending in ".*" ("quota.*": every key that starts with "quota.").
bool IsSettingName(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '*' && i + 1 == s.size() && i > 0 && s[i - 1] == '.') continue;
    if (!IsNameChar(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// A shared secret name, or a prefix ending in '*': name characters and '/'.
bool IsSharedSecretPattern(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '*' && i + 1 == s.size()) continue;
    if (!IsNameChar(c) && c != '/') return false;
  }
  return true;
}

bool IsPrintableAscii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF) without
// control characters: text `plugins verify` and `steps list` may print or put into JSON.
bool IsDisplayText(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
      return false;
    if (cp >= 0x80 && cp < 0xa0) return false;  // C1 control characters
    i += len;
  }
  return true;
}

}  // namespace

Result<PluginTable> ReadPluginTable(const std::string& file, const matih_plugin* table) {
  const std::string plugin = "plugin " + file;
  if (table == nullptr) {
    return InvalidArgument(plugin + " returned no table from " + MATIH_STEP_PLUGIN_INIT_SYMBOL +
                           ": it cannot run with this host (step ABI " + HostAbi() + ")");
  }
  // Work on a copy of what the plugin's struct holds; fields it lacks read as zero.
  uint32_t struct_size = 0;
  std::memcpy(&struct_size, table, sizeof struct_size);
  matih_plugin t{};
  std::memcpy(&t, table, std::min(static_cast<size_t>(struct_size), sizeof t));
  t.struct_size = struct_size;
  if (!MATIH_ABI_HAS_FIELD(&t, matih_plugin, abi_minor)) {
    return InvalidArgument(plugin + " returned a table too small to hold its ABI version (" +
                           std::to_string(struct_size) + " bytes)");
  }
  PluginTable out;
  out.abi_major = t.abi_major;
  out.abi_minor = t.abi_minor;
  out.abi_version = std::to_string(t.abi_major) + "." + std::to_string(t.abi_minor);
  if (t.abi_major != MATIH_STEP_ABI_VERSION_MAJOR) {
    return InvalidArgument(plugin + " was built for step ABI " + out.abi_version + "; this host speaks " +
                           HostAbi() +
                           " (the major versions must match: rebuild the plugin against this SDK)");
  }
  if (struct_size < kMinPluginSize) {
    return InvalidArgument(plugin + " returned a plugin table of " + std::to_string(struct_size) +
                           " bytes; step ABI " + out.abi_version + " needs at least " +
                           std::to_string(kMinPluginSize));
  }
  if (!BoundedString(t.name, kMaxPluginNameBytes, out.name) || out.name.empty()) {
    return InvalidArgument(plugin + " has no name in its table, or one longer than " +
                           std::to_string(kMaxPluginNameBytes) + " bytes");
  }
  if (!IsName(out.name)) {
    return InvalidArgument(plugin +
                           " has a malformed name in its table (letters, digits, '.', '_', '-' only)");
  }
  if (!BoundedString(t.version, kMaxPluginVersionBytes, out.version) || !IsPrintableAscii(out.version)) {
    return InvalidArgument(plugin + " (" + out.name + ") has a malformed version (printable ASCII, at most " +
                           std::to_string(kMaxPluginVersionBytes) + " bytes)");
  }

  // Kinds: walk by the plugin's element size; copy only what both sides know, zero the rest.
  if (t.kind_count > kMaxPluginKinds || (t.kind_count > 0 && t.kinds == nullptr)) {
    return InvalidArgument(plugin + " returned a corrupt kinds array (" + std::to_string(t.kind_count) +
                           " kinds)");
  }
  if (t.kind_count > 0 &&
      (t.kind_struct_size < kMinKindSize || t.kind_struct_size > kMaxPluginElementBytes)) {
    return InvalidArgument(plugin + " declares step kinds of " + std::to_string(t.kind_struct_size) +
                           " bytes; " + std::to_string(kMinKindSize) + " to " +
                           std::to_string(kMaxPluginElementBytes) + " are accepted");
  }
  const auto* kinds = reinterpret_cast<const unsigned char*>(t.kinds);
  std::set<std::string> kind_names;
  std::string text;
  for (size_t i = 0; i < t.kind_count; ++i) {
    const unsigned char* element = kinds + i * t.kind_struct_size;
    uint32_t element_size = 0;
    std::memcpy(&element_size, element, sizeof element_size);
    const size_t copied =
        std::min({static_cast<size_t>(element_size), t.kind_struct_size, sizeof(matih_step_kind)});
    const std::string where = plugin + ", step kind #" + std::to_string(i);
    if (copied < kMinKindSize) {
      return InvalidArgument(where + " is " + std::to_string(element_size) +
                             " bytes, smaller than step ABI 1.0's");
    }
    matih_step_kind kind{};
    std::memcpy(&kind, element, copied);
    kind.struct_size = static_cast<uint32_t>(copied);
    if (!BoundedString(kind.name, kMaxPluginNameBytes, text) || !IsName(text)) {
      return InvalidArgument(
          where + " has a missing or malformed name (letters, digits, '.', '_', '-' only, at most " +
          std::to_string(kMaxPluginNameBytes) + " bytes)");
    }
    const std::string name = text;
    if (!kind.on_observe || !kind.on_apply || !kind.on_remove) {
      return InvalidArgument(where + " (" + name + ") lacks on_observe, on_apply or on_remove");
    }
    if (!BoundedString(kind.description, kMaxPluginDescriptionBytes, text) || !IsDisplayText(text)) {
      return InvalidArgument(where + " (" + name +
                             ") has a malformed description (UTF-8 without control characters, " +
                             "at most " + std::to_string(kMaxPluginDescriptionBytes) + " bytes)");
    }
    if (!kind_names.insert(name).second) {
      return InvalidArgument(plugin + " exports step kind " + name + " twice");
    }
    out.kinds.push_back(kind);
  }

  // Since 1.2: declared settings and shared secrets. Older plugins keep the legacy secret
  // namespace and declare nothing.
  if (t.abi_minor < 2 || !MATIH_ABI_HAS_FIELD(&t, matih_plugin, shared_secrets)) return out;
  out.declares_settings = true;
  if (t.setting_count > kMaxPluginSettings || (t.setting_count > 0 && t.settings == nullptr) ||
      (t.setting_count > 0 &&
       (t.setting_struct_size < kMinSettingSize || t.setting_struct_size > kMaxPluginElementBytes))) {
    return InvalidArgument(plugin + " returned a corrupt settings array (" + std::to_string(t.setting_count) +
                           " settings of " + std::to_string(t.setting_struct_size) + " bytes)");
  }
  const auto* settings = reinterpret_cast<const unsigned char*>(t.settings);
  std::set<std::string> setting_names;
  for (size_t i = 0; i < t.setting_count; ++i) {
    const unsigned char* element = settings + i * t.setting_struct_size;
    uint32_t element_size = 0;
    std::memcpy(&element_size, element, sizeof element_size);
    const size_t copied =
        std::min({static_cast<size_t>(element_size), t.setting_struct_size, sizeof(matih_setting)});
    const std::string where = plugin + ", setting #" + std::to_string(i);
    if (copied < kMinSettingSize) {
      return InvalidArgument(where + " is " + std::to_string(element_size) +
                             " bytes, smaller than step ABI 1.2's");
    }
    matih_setting s{};
    std::memcpy(&s, element, copied);
    DeclaredSetting declared;
    if (!BoundedString(s.name, kMaxPluginNameBytes, declared.name) || !IsSettingName(declared.name)) {
      return InvalidArgument(where +
                             " has a missing or malformed name (letters, digits, '.', '_', '-', a final " +
                             "\".*\", at most " + std::to_string(kMaxPluginNameBytes) + " bytes)");
    }
    if (!BoundedString(s.description, kMaxPluginDescriptionBytes, declared.description) ||
        !IsDisplayText(declared.description)) {
      return InvalidArgument(where + " (" + declared.name +
                             ") has a malformed description (UTF-8 without control characters, at most " +
                             std::to_string(kMaxPluginDescriptionBytes) + " bytes)");
    }
    if (!setting_names.insert(declared.name).second) {
      return InvalidArgument(plugin + " declares setting " + declared.name + " twice");
    }
    // Unknown flag bits are a newer plugin's, and ignored (step_abi.h).
    declared.required = (s.flags & MATIH_SETTING_REQUIRED) != 0;
    declared.secret = (s.flags & MATIH_SETTING_SECRET) != 0;
    declared.key_file = (s.flags & MATIH_SETTING_KEY_FILE) != 0;
    out.settings.push_back(std::move(declared));
  }

  if (t.shared_secret_count > kMaxPluginSharedSecrets ||
      (t.shared_secret_count > 0 && t.shared_secrets == nullptr)) {
    return InvalidArgument(plugin + " returned a corrupt shared-secrets array (" +
                           std::to_string(t.shared_secret_count) + " names)");
  }
  for (size_t i = 0; i < t.shared_secret_count; ++i) {
    if (!BoundedString(t.shared_secrets[i], kMaxSharedSecretBytes, text) || text.empty()) {
      return InvalidArgument(plugin + ", shared secret #" + std::to_string(i) +
                             " has no name, or one longer than " + std::to_string(kMaxSharedSecretBytes) +
                             " bytes");
    }
    if (!IsSharedSecretPattern(text)) {
      return InvalidArgument(plugin + ", shared secret #" + std::to_string(i) +
                             " is malformed (letters, digits, '.', '_', '-', '/', a final '*')");
    }
    out.shared_secrets.push_back(text);
  }
  return out;
}

}  // namespace matih::runner
