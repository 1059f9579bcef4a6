#include "plugin_host/plugin_host.h"

#include <dlfcn.h>

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

#include "plugin_host/host_services.h"
#include "plugin_host/key_file.h"
#include "plugin_host/loaded_step_kind.h"
#include "plugin_host/plugin_file.h"
#include "telemetry/logger.h"

namespace matih::runner {
namespace fs = std::filesystem;

namespace {

// The smallest tables the host accepts: those of ABI 1.0, the first release.
constexpr size_t kMinPluginSize = offsetof(matih_plugin, kind_struct_size) + sizeof(size_t);
constexpr size_t kMinKindSize = offsetof(matih_step_kind, on_remove) + sizeof(void*);
// A sanity bound: a count beyond this is a corrupt table, not a plugin.
constexpr size_t kMaxKinds = 4096;
constexpr size_t kMaxSettings = 1024;
constexpr size_t kMinSettingSize = offsetof(matih_setting, description) + sizeof(const char*);

// A key, or a family of keys ending in ".*" ("quota.*": every key that starts with "quota.").
bool IsSettingName(const char* name) {
  if (name == nullptr || *name == '\0' || std::strlen(name) > 128) return false;
  for (const char* p = name; *p; ++p) {
    unsigned char c = static_cast<unsigned char>(*p);
    if (c == '*' && p[1] == '\0' && p > name && p[-1] == '.') continue;
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

bool IsDeclared(const std::set<std::string, std::less<>>& declared, const std::string& key) {
  if (declared.count(key)) return true;
  for (const std::string& d : declared) {
    if (d.size() >= 2 && d.back() == '*' && key.size() > d.size() - 1 &&
        key.compare(0, d.size() - 1, d, 0, d.size() - 1) == 0)
      return true;
  }
  return false;
}

std::string HostAbi() {
  return std::to_string(MATIH_STEP_ABI_VERSION_MAJOR) + "." + std::to_string(MATIH_STEP_ABI_VERSION_MINOR);
}

bool IsKindName(const char* name) {
  if (name == nullptr || *name == '\0') return false;
  for (const char* p = name; *p; ++p) {
    unsigned char c = static_cast<unsigned char>(*p);
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return std::strlen(name) <= 128;
}

bool IsSha256Hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The pin for a plugin file, looked up by absolute path (as found and as resolved) or by file
// name. Returns the key that matched, or an empty string.
std::string FindPin(const std::map<std::string, std::string>& pins, const fs::path& found,
                    const fs::path& real) {
  for (const auto& candidate :
       {found.lexically_normal().string(), real.string(), found.filename().string()}) {
    if (pins.count(candidate)) return candidate;
  }
  return {};
}

}  // namespace

struct PluginHost::Impl {
  // Declared first so it is destroyed last: kinds point into these libraries' tables.
  std::vector<boost::dll::shared_library> libraries;
  std::vector<std::unique_ptr<StepKind>> kinds;
  std::map<std::string, const StepKind*, std::less<>> by_name;
  std::vector<LoadedPluginInfo> plugins;
  std::vector<PluginVerdict> verdicts;
  std::set<std::string> builtin_files;  // loaded from a built-in directory
  // What plugins share of their secrets; every kind's PluginScope points here.
  std::unique_ptr<SharedSecrets> shared_secrets = std::make_unique<SharedSecrets>();

  // Reads the 1.2 fields of `table` (declared settings, shared secrets) into `info` and `scope`.
  Status ReadDeclarations(const std::string& file, const matih_plugin* table, LoadedPluginInfo& info,
                          PluginScope& scope) const;

  // Loads one file; a refusal leaves this object as it was.
  Status LoadFile(const fs::path& found, const PluginHostOptions& options, bool builtin,
                  std::set<std::string>& matched_pins);
};

Status PluginHost::Impl::LoadFile(const fs::path& found, const PluginHostOptions& options, bool builtin,
                                  std::set<std::string>& matched_pins) {
  std::error_code ec;
  fs::path real = fs::canonical(found, ec);
  if (ec) return FailedPrecondition("cannot resolve plugin " + found.string() + ": " + ec.message());
  const std::string file = real.string();
  for (const LoadedPluginInfo& p : plugins) {
    if (p.file == file) return Status::Ok();  // the same file reached twice (overlapping dirs or a symlink)
  }

  auto opened = PluginFile::Open(file);
  if (!opened.ok()) return opened.status();
  const PluginFile& plugin_file = *opened;
  if (!options.allow_insecure_permissions) {
    if (Status s = plugin_file.CheckPermissions(); !s.ok()) return s;
    // A symlink in a trusted directory must not pull code from an untrusted one.
    if (real.parent_path() != found.parent_path().lexically_normal()) {
      if (Status s = CheckPluginDirectory(real.parent_path().string()); !s.ok()) return s;
    }
  }

  if (std::string pin_key = FindPin(options.sha256_pins, found, real); !pin_key.empty()) {
    matched_pins.insert(pin_key);
    const std::string expected = Lower(options.sha256_pins.at(pin_key));
    if (!IsSha256Hex(expected)) {
      return InvalidArgument("the SHA-256 pin of plugin " + pin_key + " is not 64 hex characters");
    }
    auto actual = plugin_file.Sha256();
    if (!actual.ok()) return actual.status();
    if (*actual != expected) {
      return FailedPrecondition(
          "plugin " + file + " has SHA-256 " + *actual + " but is pinned to " + expected +
          ": refusing to load it (rebuilt or replaced? update the pin only if you trust it)");
    }
  }

  if (Status s = plugin_file.SameFileAtPath(); !s.ok()) return s;
  if (Status s = plugin_file.CheckElf(); !s.ok()) return s;
  boost::dll::shared_library library;
  try {
    // RTLD_NODELETE: a plugin's code stays mapped even after the host lets go of it, since
    // threads it started or static state of the libraries it uses may outlive the handle.
    library.load(real, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local |
                           static_cast<boost::dll::load_mode::type>(RTLD_NODELETE));
  } catch (const std::exception& e) {
    // Boost's message carries dlerror(): a missing dependency, an undefined symbol, not an ELF.
    return FailedPrecondition("cannot load plugin " + file + ": " + e.what());
  }
  if (Status s = plugin_file.SameFileAtPath(); !s.ok()) return s;

  if (!library.has(MATIH_STEP_PLUGIN_INIT_SYMBOL)) {
    return InvalidArgument("plugin " + file + " does not export " + MATIH_STEP_PLUGIN_INIT_SYMBOL +
                           ": it is not a step plugin (define it with MATIH_PLUGIN from <matih/step.hpp>)");
  }
  auto* init = library.get<const matih_plugin*(uint32_t, uint32_t, const matih_host_api*)>(
      MATIH_STEP_PLUGIN_INIT_SYMBOL);
  const matih_plugin* table = nullptr;
  try {
    table = init(MATIH_STEP_ABI_VERSION_MAJOR, MATIH_STEP_ABI_VERSION_MINOR, HostServicesTable());
  } catch (...) {
    return InvalidArgument("plugin " + file + " let an exception escape from " +
                           MATIH_STEP_PLUGIN_INIT_SYMBOL);
  }
  if (table == nullptr) {
    return InvalidArgument("plugin " + file + " returned no table from " + MATIH_STEP_PLUGIN_INIT_SYMBOL +
                           ": it cannot run with this host (step ABI " + HostAbi() + ")");
  }
  if (!MATIH_ABI_HAS_FIELD(table, matih_plugin, abi_minor)) {
    return InvalidArgument("plugin " + file + " returned a table too small to hold its ABI version (" +
                           std::to_string(table->struct_size) + " bytes)");
  }
  const std::string plugin_abi = std::to_string(table->abi_major) + "." + std::to_string(table->abi_minor);
  if (table->abi_major != MATIH_STEP_ABI_VERSION_MAJOR) {
    return InvalidArgument("plugin " + file + " was built for step ABI " + plugin_abi +
                           "; this host speaks " + HostAbi() +
                           " (the major versions must match: rebuild the plugin against this SDK)");
  }
  if (table->struct_size < kMinPluginSize) {
    return InvalidArgument("plugin " + file + " returned a plugin table of " +
                           std::to_string(table->struct_size) + " bytes; step ABI " + plugin_abi +
                           " needs at least " + std::to_string(kMinPluginSize));
  }
  if (table->name == nullptr || *table->name == '\0') {
    return InvalidArgument("plugin " + file + " has no name in its table");
  }
  if (table->kind_count > kMaxKinds || (table->kind_count > 0 && table->kinds == nullptr)) {
    return InvalidArgument("plugin " + file + " returned a corrupt kinds array (" +
                           std::to_string(table->kind_count) + " kinds)");
  }
  if (table->kind_count > 0 && table->kind_struct_size < kMinKindSize) {
    return InvalidArgument("plugin " + file + " declares step kinds of " +
                           std::to_string(table->kind_struct_size) + " bytes; at least " +
                           std::to_string(kMinKindSize) + " are needed");
  }

  PluginIdentity identity{
      file, table->name, table->version ? table->version : "", table->abi_major, table->abi_minor, {}};
  LoadedPluginInfo info{file, identity.name, identity.version, plugin_abi, {}, false, {}, {}};
  if (Status s = ReadDeclarations(file, table, info, identity.scope); !s.ok()) return s;
  std::vector<std::unique_ptr<LoadedStepKind>> new_kinds;
  std::set<std::string> names;
  const auto* base = reinterpret_cast<const unsigned char*>(table->kinds);
  for (size_t i = 0; i < table->kind_count; ++i) {
    // Walk by the plugin's element size; copy only what both sides know, zero the rest.
    const unsigned char* element = base + i * table->kind_struct_size;
    uint32_t element_size = 0;
    std::memcpy(&element_size, element, sizeof element_size);
    size_t copied =
        std::min({static_cast<size_t>(element_size), table->kind_struct_size, sizeof(matih_step_kind)});
    const std::string where = "plugin " + file + ", step kind #" + std::to_string(i);
    if (copied < kMinKindSize) {
      return InvalidArgument(where + " is " + std::to_string(element_size) +
                             " bytes, smaller than step ABI 1.0's");
    }
    matih_step_kind kind{};
    std::memcpy(&kind, element, copied);
    kind.struct_size = static_cast<uint32_t>(copied);
    if (!IsKindName(kind.name)) {
      return InvalidArgument(where +
                             " has a missing or malformed name (letters, digits, '.', '_', '-' only)");
    }
    if (!kind.on_observe || !kind.on_apply || !kind.on_remove) {
      return InvalidArgument(where + " (" + kind.name + ") lacks on_observe, on_apply or on_remove");
    }
    if (!names.insert(kind.name).second) {
      return InvalidArgument("plugin " + file + " exports step kind " + kind.name + " twice");
    }
    if (auto it = by_name.find(kind.name); it != by_name.end()) {
      // The one loaded first keeps the kind; built-in directories load first (see Load).
      const std::string& holder = it->second->plugin_file();
      const bool holder_builtin = builtin_files.count(holder) > 0;
      return InvalidArgument("step kind " + std::string(kind.name) + " is exported by both " + holder +
                             (holder_builtin ? " (built-in)" : "") + " and " + file + ": refusing " + file +
                             (holder_builtin && !builtin
                                  ? ", the newcomer (a plugin from a directory the operator added cannot "
                                    "take over a built-in kind: give its kinds their own names)"
                                  : ""));
    }
    new_kinds.push_back(std::make_unique<LoadedStepKind>(identity, kind));
  }
  for (const LoadedPluginInfo& p : plugins) {
    if (p.name == info.name && info.declares_settings) {
      // Two plugins of one name would share a secret namespace.
      return InvalidArgument("plugin " + file + " is named " + info.name + ", like " + p.file +
                             (builtin_files.count(p.file) ? " (built-in)" : "") + ": refusing " + file +
                             " (plugin names must be unique)");
    }
  }

  for (const std::string& pattern : info.shared_secrets) shared_secrets->Share(info.name, pattern);
  for (auto& kind : new_kinds) {
    info.kinds.push_back(kind->name());
    by_name.emplace(kind->name(), kind.get());
    kinds.push_back(std::move(kind));
  }
  Logger::Debug({}, "loaded plugin " + file + " (" + info.name + " " + info.version + ", step ABI " +
                        plugin_abi + ", " + std::to_string(info.kinds.size()) + " kinds)");
  if (builtin) builtin_files.insert(file);
  plugins.push_back(std::move(info));
  libraries.push_back(std::move(library));
  return Status::Ok();
}

Status PluginHost::Impl::ReadDeclarations(const std::string& file, const matih_plugin* table,
                                          LoadedPluginInfo& info, PluginScope& scope) const {
  scope.shared = shared_secrets.get();
  // Plugins older than 1.2 keep the legacy secret namespace and declare nothing.
  if (table->abi_minor < 2 || !MATIH_ABI_HAS_FIELD(table, matih_plugin, shared_secrets)) return Status::Ok();
  info.declares_settings = true;
  scope.secret_namespace = info.name;
  if (table->setting_count > kMaxSettings || (table->setting_count > 0 && table->settings == nullptr) ||
      (table->setting_count > 0 && table->setting_struct_size < kMinSettingSize)) {
    return InvalidArgument("plugin " + file + " returned a corrupt settings array (" +
                           std::to_string(table->setting_count) + " settings of " +
                           std::to_string(table->setting_struct_size) + " bytes)");
  }
  const auto* base = reinterpret_cast<const unsigned char*>(table->settings);
  std::set<std::string> seen;
  for (size_t i = 0; i < table->setting_count; ++i) {
    matih_setting s{};
    std::memcpy(&s, base + i * table->setting_struct_size, std::min(table->setting_struct_size, sizeof s));
    if (!IsSettingName(s.name)) {
      return InvalidArgument(
          "plugin " + file + ", setting #" + std::to_string(i) +
          " has a missing or malformed name (letters, digits, '.', '_', '-', a final \".*\")");
    }
    if (!seen.insert(s.name).second) {
      return InvalidArgument("plugin " + file + " declares setting " + s.name + " twice");
    }
    info.settings.push_back({s.name, s.description ? s.description : "",
                             (s.flags & MATIH_SETTING_REQUIRED) != 0, (s.flags & MATIH_SETTING_SECRET) != 0,
                             (s.flags & MATIH_SETTING_KEY_FILE) != 0});
    if (s.flags & MATIH_SETTING_SECRET) scope.secret_settings.insert(s.name);
  }
  if (table->shared_secret_count > kMaxSettings ||
      (table->shared_secret_count > 0 && table->shared_secrets == nullptr)) {
    return InvalidArgument("plugin " + file + " returned a corrupt shared-secrets array");
  }
  for (size_t i = 0; i < table->shared_secret_count; ++i) {
    const char* name = table->shared_secrets[i];
    if (name == nullptr || *name == '\0') {
      return InvalidArgument("plugin " + file + ", shared secret #" + std::to_string(i) + " has no name");
    }
    info.shared_secrets.emplace_back(name);
  }
  return Status::Ok();
}

Status PluginHost::CheckSettings(const std::map<std::string, std::string>& targets,
                                 const std::set<std::string>& ignore,
                                 std::vector<std::string>* warnings) const {
  std::set<std::string, std::less<>> declared;
  std::vector<std::string> undeclaring;
  for (const LoadedPluginInfo& p : impl_->plugins) {
    if (!p.declares_settings) undeclaring.push_back(p.name);
    for (const DeclaredSetting& s : p.settings) declared.insert(s.name);
  }
  std::vector<std::string> unknown;
  for (const auto& [key, value] : targets) {
    if (!ignore.count(key) && !IsDeclared(declared, key)) unknown.push_back(key);
  }
  if (unknown.empty()) return Status::Ok();
  std::string keys;
  for (const std::string& k : unknown) keys += (keys.empty() ? "" : ", ") + std::string("targets.") + k;
  if (!undeclaring.empty()) {
    std::string names;
    for (const std::string& n : undeclaring) names += (names.empty() ? "" : ", ") + n;
    if (warnings) {
      warnings->push_back("setting(s) " + keys + " declared by no plugin; passed through because plugin(s) " +
                          names + " (older than step ABI 1.2) cannot declare theirs");
    }
    return Status::Ok();
  }
  return InvalidArgument(
      "unknown setting(s) " + keys +
      ": no loaded plugin declares them (misspelt? `plugins verify` lists every plugin's settings)");
}

Status PluginHost::CheckKeyFiles(const std::map<std::string, std::string>& targets) const {
  std::string problems;
  std::set<std::string> checked;
  for (const LoadedPluginInfo& p : impl_->plugins) {
    for (const DeclaredSetting& s : p.settings) {
      auto it = targets.find(s.name);
      if (!s.key_file || it == targets.end() || !checked.insert(s.name).second) continue;
      if (Status st = CheckKeyFile("targets." + s.name, it->second); !st.ok())
        problems += (problems.empty() ? "" : "\n") + st.message();
    }
  }
  return problems.empty() ? Status::Ok() : FailedPrecondition(problems);
}

PluginHost::PluginHost() : impl_(std::make_unique<Impl>()) {}
PluginHost::~PluginHost() = default;

std::unique_ptr<PluginHost> PluginHost::Serve(std::vector<LoadedPluginInfo> plugins,
                                              const KindFactory& make_kinds) {
  std::unique_ptr<PluginHost> host(new PluginHost());
  Impl& impl = *host->impl_;
  impl.plugins = std::move(plugins);
  for (const LoadedPluginInfo& info : impl.plugins) {
    for (const std::string& pattern : info.shared_secrets) impl.shared_secrets->Share(info.name, pattern);
  }
  for (std::unique_ptr<StepKind>& kind : make_kinds(impl.shared_secrets.get())) {
    impl.by_name.emplace(kind->name(), kind.get());
    impl.kinds.push_back(std::move(kind));
  }
  return host;
}

Result<std::unique_ptr<PluginHost>> PluginHost::Load(const PluginHostOptions& options) {
  if (options.workers.enabled) {
    return FailedPrecondition(
        "PluginHost::Load loads in process; process isolation loads with isolation::LoadPlugins");
  }
  std::unique_ptr<PluginHost> host(new PluginHost());
  Impl& impl = *host->impl_;
  std::vector<Status> refusals;
  std::set<std::string> matched_pins;
  std::set<std::string> seen_files;

  // Built-in directories first, each group in the configured order: which of two plugins keeps
  // a kind must not depend on the order of --plugin-dir.
  std::set<std::string> builtin;
  for (const std::string& dir : options.builtin_dirs) {
    std::error_code ec;
    fs::path real = fs::canonical(dir, ec);
    if (!ec) builtin.insert(real.string());
  }
  auto is_builtin = [&](const std::string& dir) {
    std::error_code ec;
    fs::path real = fs::canonical(dir, ec);
    return !ec && builtin.count(real.string()) > 0;
  };
  std::vector<std::string> dirs = options.plugin_dirs;
  std::stable_partition(dirs.begin(), dirs.end(), is_builtin);
  auto refuse = [&](const std::string& what, bool from_builtin, const Status& s) {
    refusals.push_back(s);
    impl.verdicts.push_back({what, from_builtin, false, s.message()});
  };

  for (const std::string& dir : dirs) {
    const bool dir_builtin = is_builtin(dir);
    Status dir_status = options.allow_insecure_permissions ? Status::Ok() : CheckPluginDirectory(dir);
    std::error_code ec;
    if (dir_status.ok() && !fs::is_directory(dir, ec)) {
      dir_status = FailedPrecondition("plugin directory " + dir + " does not exist or is not a directory");
    }
    if (!dir_status.ok()) {
      refuse(dir, dir_builtin, dir_status);
      continue;
    }
    std::vector<fs::path> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".so") files.push_back(it->path());
    }
    if (ec) {
      refuse(dir, dir_builtin,
             FailedPrecondition("cannot list plugin directory " + dir + ": " + ec.message()));
      continue;
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      std::error_code real_ec;
      fs::path real = fs::canonical(file, real_ec);
      const std::string name = real_ec ? file.string() : real.string();
      // The same file reached twice (overlapping directories or a symlink) has its verdict.
      if (!seen_files.insert(name).second) continue;
      if (Status s = impl.LoadFile(file, options, dir_builtin, matched_pins); !s.ok())
        refuse(name, dir_builtin, s);
      else
        impl.verdicts.push_back({name, dir_builtin, true, ""});
    }
  }

  for (const auto& [key, pin] : options.sha256_pins) {
    if (!matched_pins.count(key)) {
      refuse(key, false,
             FailedPrecondition("plugin " + key + " is pinned (SHA-256) but is not in any plugin directory"));
    }
  }

  if (!refusals.empty() && !options.keep_going) {
    // Every refusal at once, one per line, so an operator fixes them in one pass.
    std::string message;
    for (const Status& s : refusals) message += (message.empty() ? "" : "\n") + s.message();
    return Status(refusals.front().code(), message);
  }
  return host;
}

const StepKind* PluginHost::Find(std::string_view name) const {
  auto it = impl_->by_name.find(name);
  return it == impl_->by_name.end() ? nullptr : it->second;
}

std::vector<const StepKind*> PluginHost::All() const {
  std::vector<const StepKind*> all;
  for (const auto& [name, kind] : impl_->by_name) all.push_back(kind);
  return all;
}

const std::vector<LoadedPluginInfo>& PluginHost::plugins() const { return impl_->plugins; }

const std::vector<PluginVerdict>& PluginHost::verdicts() const { return impl_->verdicts; }

std::vector<std::string> DefaultPluginDirs() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const fs::path bin = exe.parent_path();
  std::vector<std::string> dirs;
  for (const fs::path& candidate :
       {bin.parent_path() / "lib" / "matih-provisioner" / "plugins", bin.parent_path() / "plugins"}) {
    fs::path real = fs::canonical(candidate, ec);
    if (!ec && fs::is_directory(real, ec)) dirs.push_back(real.string());
  }
  return dirs;
}

}  // namespace matih::runner
