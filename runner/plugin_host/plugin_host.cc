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
#include "plugin_host/plugin_table.h"
#include "telemetry/logger.h"

namespace matih::runner {
namespace fs = std::filesystem;

namespace {

bool IsDeclared(const std::set<std::string, std::less<>>& declared, const std::string& key) {
  if (declared.count(key)) return true;
  for (const std::string& d : declared) {
    if (d.size() >= 2 && d.back() == '*' && key.size() > d.size() - 1 &&
        key.compare(0, d.size() - 1, d, 0, d.size() - 1) == 0)
      return true;
  }
  return false;
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

// True when `real` (a canonical path) lies inside the canonical directory `dir`.
bool IsInside(const fs::path& real, const fs::path& dir) {
  const fs::path inside = real.lexically_relative(dir);
  return !inside.empty() && *inside.begin() != "..";
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
  // A plugin is code its directory vouches for: a symlink must not bring in a file from elsewhere
  // (however trusted that place), so the file's real path must lie inside the real directory.
  const fs::path dir = found.parent_path().empty() ? fs::path(".") : found.parent_path();
  fs::path real_dir = fs::canonical(dir, ec);
  if (ec) return FailedPrecondition("cannot resolve plugin directory " + dir.string() + ": " + ec.message());
  if (!IsInside(real, real_dir)) {
    return FailedPrecondition(
        "plugin " + found.string() + " is a symlink to " + file + ", outside its plugin directory " +
        real_dir.string() +
        ": refusing to load it (copy the file into the directory, or add its own directory "
        "with --plugin-dir)");
  }
  for (const LoadedPluginInfo& p : plugins) {
    if (p.file == file) return Status::Ok();  // the same file reached twice (overlapping dirs or a symlink)
  }

  auto opened = PluginFile::Open(file);
  if (!opened.ok()) return opened.status();
  const PluginFile& plugin_file = *opened;
  if (!options.allow_insecure_permissions) {
    if (Status s = plugin_file.CheckPermissions(); !s.ok()) return s;
    // A symlink to a subdirectory must not pull code from an untrusted one.
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
  // Everything the table says is checked and copied before the host relies on any of it.
  auto read = ReadPluginTable(file, table);
  if (!read.ok()) return read.status();
  PluginTable& contents = *read;
  PluginIdentity identity{file, contents.name, contents.version, contents.abi_major, contents.abi_minor, {}};
  identity.scope.shared = shared_secrets.get();
  // Plugins older than 1.2 keep the legacy secret namespace (an empty one).
  if (contents.declares_settings) {
    identity.scope.secret_namespace = contents.name;
    for (const DeclaredSetting& d : contents.settings) {
      if (d.secret) identity.scope.secret_settings.insert(d.name);
    }
  }
  LoadedPluginInfo info{file,
                        contents.name,
                        contents.version,
                        contents.abi_version,
                        {},
                        contents.declares_settings,
                        std::move(contents.settings),
                        std::move(contents.shared_secrets)};
  std::vector<std::unique_ptr<LoadedStepKind>> new_kinds;
  for (const matih_step_kind& kind : contents.kinds) {
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
                        info.abi_version + ", " + std::to_string(info.kinds.size()) + " kinds)");
  if (builtin) builtin_files.insert(file);
  plugins.push_back(std::move(info));
  libraries.push_back(std::move(library));
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
      // A file's verdict names its real path, or the symlink when it points out of the directory.
      std::error_code dir_ec;
      const fs::path real_dir = fs::canonical(dir, dir_ec);
      const bool named_by_link = real_ec || dir_ec || !IsInside(real, real_dir);
      const std::string name = named_by_link ? file.string() : real.string();
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
