// Fuzzes the plugin-table reader (runner/plugin_host/plugin_table.cc): the fuzzer's bytes build, in
// memory, what a plugin's matih_step_plugin_init could return (struct sizes, ABI versions, names
// with or without a NUL, counts, element sizes, null pointers, flags), and ReadPluginTable reads it.
//
// Every buffer is allocated at exactly the size the table claims (the table at
// min(struct_size, sizeof(matih_plugin)), each array at count x element size, a string without a
// NUL at exactly one byte past the reader's bound for its field), so AddressSanitizer reports any
// read past what the table says. Counts beyond what can be allocated come with an empty array,
// and the reader must refuse them without reading it. Function pointers lead to a trap: the reader
// must never call plugin code. An accepted table must hold exactly what was built; a refusal is
// InvalidArgument naming the file in plain ASCII (no plugin bytes echoed unchecked).
//
// MATIH_FUZZ_VERBOSE=1 prints each input's verdict (to see what a seed exercises).
// Input layout (every read past the end gives 0): see Build below; tests/fuzz/corpus/plugin_table
// holds hand-made seeds (valid 1.0 and 1.2 tables and one of each refusal).
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "plugin_host/plugin_table.h"

namespace {

using matih::fuzz::Require;
namespace r = matih::runner;

constexpr char kFile[] = "/plugins/fuzz-plugin.so";

class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  uint8_t U8() { return i_ < n_ ? p_[i_++] : 0; }
  uint32_t U32() {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v |= static_cast<uint32_t>(U8()) << (8 * k);
    return v;
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t i_ = 0;
};

// Strings the reader should accept or refuse for a reason other than their bytes' randomness.
const char* const kKnown[] = {
    "matih-fuzz", "fuzz.kind", "fuzz.other",  "quota.*",      "sas/*", "1.0.0",
    "",           "a b",       "dns.api_url", "x/y",          "*",     "\xc3\xa9t\xc3\xa9",
    "\xff",       "tab\there", "a/b",         "\xed\xa0\x80", "..",    "quota.*x"};

matih_status Trap(void*, matih_step_context*) {
  Require(false, "the reader called a plugin function");
  return 0;
}
matih_status TrapValidate(void*, matih_str, char*, size_t) {
  Require(false, "the reader called on_validate_params");
  return 0;
}
int kind_data_sentinel;

// Owns every buffer of one table; each one exactly as large as the table claims.
class Arena {
 public:
  char* Alloc(size_t n) {
    blocks_.push_back(std::make_unique<char[]>(n));
    return blocks_.back().get();
  }
  // A string for a field whose bound is `bound` bytes (without the NUL).
  const char* Str(Input& in, size_t bound) {
    switch (in.U8() % 6) {
      case 0: return nullptr;
      case 1: {  // NUL-terminated input bytes (which may hold an earlier NUL)
        const size_t len = in.U8();
        char* s = Alloc(len + 1);
        for (size_t i = 0; i < len; ++i) s[i] = static_cast<char>(in.U8());
        s[len] = '\0';
        return s;
      }
      case 2: {  // no NUL at all: exactly one byte past the bound (more if the input is longer)
        const size_t len = std::max<size_t>(in.U8(), bound + 1);
        char* s = Alloc(len);
        for (size_t i = 0; i < len; ++i) s[i] = 'x';
        return s;
      }
      case 3: return Known(in.U8());
      case 4:
      case 5: {  // 'a' x bound (the longest accepted), or one byte more
        const size_t len = bound + (in.U8() & 1);
        char* s = Alloc(len + 1);
        std::memset(s, 'a', len);
        s[len] = '\0';
        return s;
      }
    }
    return nullptr;
  }
  const char* Known(uint8_t i) {
    const char* k = kKnown[i % (sizeof kKnown / sizeof kKnown[0])];
    char* s = Alloc(std::strlen(k) + 1);
    std::memcpy(s, k, std::strlen(k) + 1);
    return s;
  }

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
};

// An array count: small and allocatable, or beyond any bound (`huge`: the array is empty).
size_t Count(Input& in, bool& huge) {
  huge = false;
  switch (in.U8() % 8) {
    case 6: {
      huge = true;
      const size_t big[] = {r::kMaxPluginKinds + 1, SIZE_MAX, size_t{1} << 62, SIZE_MAX / 2 + 1};
      return big[in.U8() % 4];
    }
    case 7: return 0;
    default: return in.U8() % 17;
  }
}

// An element size for an array of T: the real one, the ABI minimum, less, or any 16-bit value.
template <typename T>
size_t ElementSize(Input& in, size_t min_size) {
  switch (in.U8() % 6) {
    case 3: return min_size;
    case 4: return min_size - 8;
    case 5: return in.U8() | (size_t{in.U8()} << 8);
    default: return sizeof(T);
  }
}

template <typename T>
uint32_t ElementStructSize(Input& in, size_t min_size) {
  switch (in.U8() % 4) {
    case 2: return static_cast<uint32_t>(min_size);
    case 3: return in.U32();
    default: return sizeof(T);
  }
}

// Lays `count` elements of `size` bytes out in one exact allocation: each the first bytes of its
// struct, then filler. Null (sometimes) or an empty allocation when the count is huge.
template <typename T>
const T* Array(Arena& arena, Input& in, const std::vector<T>& elements, size_t count, size_t size,
               bool huge) {
  if (huge) return reinterpret_cast<const T*>(arena.Alloc(0));
  if (count > 0 && in.U8() % 16 == 0) return nullptr;
  char* base = arena.Alloc(count * size);
  for (size_t i = 0; i < count; ++i) {
    char* at = base + i * size;
    std::memset(at, 0xab, size);
    std::memcpy(at, &elements[i], std::min(size, sizeof(T)));
  }
  return reinterpret_cast<const T*>(base);
}

constexpr size_t kMinPluginSize = offsetof(matih_plugin, kind_struct_size) + sizeof(size_t);
constexpr size_t kMinKindSize = offsetof(matih_step_kind, on_remove) + sizeof(void*);
constexpr size_t kMinSettingSize = offsetof(matih_setting, description) + sizeof(const char*);

bool PlainAscii(const std::string& s) {
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  Arena arena;
  const bool null_table = in.U8() == 0xff;

  matih_plugin t{};
  size_t claim = sizeof t;
  switch (in.U8() % 8) {
    case 4:
      claim = offsetof(matih_plugin, setting_count);  // a 1.0/1.1 table
      break;
    case 5: claim = kMinPluginSize - 1; break;
    case 6: claim = in.U32(); break;
    case 7:
      claim = sizeof t + 16;  // a newer plugin's larger table
      break;
  }
  t.struct_size = static_cast<uint32_t>(claim);
  const uint8_t major = in.U8();
  t.abi_major = major % 16 == 15 ? in.U32() : MATIH_STEP_ABI_VERSION_MAJOR;
  t.abi_minor = in.U8() % 4;
  t.name = arena.Str(in, r::kMaxPluginNameBytes);
  t.version = arena.Str(in, r::kMaxPluginVersionBytes);

  bool kinds_huge = false;
  t.kind_count = Count(in, kinds_huge);
  t.kind_struct_size = ElementSize<matih_step_kind>(in, kMinKindSize);
  std::vector<matih_step_kind> kinds(kinds_huge ? 0 : t.kind_count);
  for (matih_step_kind& k : kinds) {
    k.struct_size = ElementStructSize<matih_step_kind>(in, kMinKindSize);
    k.name = arena.Str(in, r::kMaxPluginNameBytes);
    k.description = arena.Str(in, r::kMaxPluginDescriptionBytes);
    k.kind_data = &kind_data_sentinel;
    const uint8_t nulls = in.U8();
    k.on_observe = nulls & 1 ? nullptr : Trap;
    k.on_apply = nulls & 2 ? nullptr : Trap;
    k.on_remove = nulls & 4 ? nullptr : Trap;
    k.on_validate_params = nulls & 8 ? nullptr : TrapValidate;
  }
  t.kinds = Array(arena, in, kinds, t.kind_count, t.kind_struct_size, kinds_huge);

  bool settings_huge = false;
  t.setting_count = Count(in, settings_huge);
  t.setting_struct_size = ElementSize<matih_setting>(in, kMinSettingSize);
  std::vector<matih_setting> settings(settings_huge ? 0 : t.setting_count);
  for (matih_setting& s : settings) {
    s.struct_size = ElementStructSize<matih_setting>(in, kMinSettingSize);
    s.flags = in.U32();
    s.name = arena.Str(in, r::kMaxPluginNameBytes);
    s.description = arena.Str(in, r::kMaxPluginDescriptionBytes);
  }
  t.settings = Array(arena, in, settings, t.setting_count, t.setting_struct_size, settings_huge);

  bool shared_huge = false;
  t.shared_secret_count = Count(in, shared_huge);
  std::vector<const char*> shared(shared_huge ? 0 : t.shared_secret_count);
  for (const char*& s : shared) s = arena.Str(in, r::kMaxSharedSecretBytes);
  t.shared_secrets = Array(arena, in, shared, t.shared_secret_count, sizeof(const char*), shared_huge);

  // The table itself: only the bytes its struct_size claims (at least its struct_size field).
  const size_t table_bytes = std::max(sizeof t.struct_size, std::min(claim, sizeof t));
  char* table = arena.Alloc(table_bytes);
  std::memcpy(table, &t, table_bytes);

  auto read = r::ReadPluginTable(kFile, null_table ? nullptr : reinterpret_cast<const matih_plugin*>(table));
  static const bool verbose = std::getenv("MATIH_FUZZ_VERBOSE") != nullptr;  // what each seed tests
  if (verbose) std::fprintf(stderr, "%s\n", read.ok() ? "accepted" : read.status().message().c_str());
  if (!read.ok()) {
    Require(read.status().code() == r::Code::kInvalidArgument, "refusal is not InvalidArgument");
    Require(read.status().message().find(kFile) != std::string::npos, "refusal does not name the file");
    Require(PlainAscii(read.status().message()), "refusal carries control or non-ASCII bytes");
    return 0;
  }

  // Accepted: the table was what the ABI allows, and the copy holds exactly what was built.
  const r::PluginTable& got = *read;
  Require(!null_table, "accepted a null table");
  Require(claim >= kMinPluginSize && t.abi_major == MATIH_STEP_ABI_VERSION_MAJOR, "accepted a bad header");
  Require(got.abi_major == t.abi_major && got.abi_minor == t.abi_minor, "ABI version changed");
  Require(!kinds_huge, "accepted a huge kinds count");
  Require(t.name != nullptr && got.name == t.name && !got.name.empty() &&
              got.name.size() <= r::kMaxPluginNameBytes && PlainAscii(got.name) &&
              got.name.find('/') == std::string::npos,
          "accepted a bad plugin name");
  Require(got.version == (t.version ? t.version : "") && PlainAscii(got.version), "accepted a bad version");
  Require(got.kinds.size() == t.kind_count, "kind count changed");
  std::set<std::string> names;
  for (size_t i = 0; i < got.kinds.size(); ++i) {
    const matih_step_kind& k = got.kinds[i];
    Require(k.struct_size >= kMinKindSize && k.struct_size <= sizeof k, "kind copy has a bad struct_size");
    Require(k.name == kinds[i].name && names.insert(k.name).second, "kind name changed or repeated");
    Require(k.on_observe == Trap && k.on_apply == Trap && k.on_remove == Trap,
            "accepted a kind lacking a function");
    Require(k.kind_data == &kind_data_sentinel, "kind_data changed");
  }
  const bool declares = t.abi_minor >= 2 && claim >= offsetof(matih_plugin, shared_secrets) + sizeof(void*);
  Require(got.declares_settings == declares, "declares_settings disagrees with the ABI version and size");
  if (!declares) {
    Require(got.settings.empty() && got.shared_secrets.empty(), "read declarations of an older table");
    return 0;
  }
  Require(!settings_huge && !shared_huge, "accepted a huge count");
  Require(got.settings.size() == t.setting_count, "setting count changed");
  std::set<std::string> keys;
  for (size_t i = 0; i < got.settings.size(); ++i) {
    Require(got.settings[i].name == settings[i].name && keys.insert(got.settings[i].name).second,
            "setting name changed or repeated");
    Require(got.settings[i].secret == ((settings[i].flags & MATIH_SETTING_SECRET) != 0),
            "secret flag changed");
  }
  Require(got.shared_secrets.size() == t.shared_secret_count, "shared secret count changed");
  for (size_t i = 0; i < got.shared_secrets.size(); ++i)
    Require(got.shared_secrets[i] == shared[i] && PlainAscii(got.shared_secrets[i]), "shared secret changed");
  return 0;
}
