// PluginHost: loads step plugins and serves their kinds to the engine.
//
// Loads every `*.so` in the configured directories (and nothing from anywhere else) with
// Boost.DLL, RTLD_NOW | RTLD_LOCAL; refuses a file or directory that group or others can write,
// a symlink whose real file lies outside its plugin directory, a file whose SHA-256 differs from
// its pin, a plugin of another ABI major, a missing entry point, a malformed table (ReadPluginTable,
// plugin_table.h) and a step-kind name exported twice, each with a message naming the file (and
// both versions).
// Plugins are never unloaded while the PluginHost lives.
//
// Thread safety: Load is called once from one thread; the loaded registry is immutable and its
// kinds may be called from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/status.h"
#include "model/step_kind.h"
#include "plugin_host/plugin_table.h"  // DeclaredSetting

namespace matih::runner {

class SharedSecrets;

// Process isolation (runner/isolation/): plugins load and run in worker processes, never in the
// runner. See runner/isolation/worker_pool.h.
struct WorkerOptions {
  bool enabled = false;    // false: plugins load into this process (in_process)
  std::string executable;  // the binary serving `__plugin-worker`; empty: this one (/proc/self/exe)
  unsigned long long memory_limit = 0;  // RLIMIT_AS of each worker in bytes; 0: none
  std::string log_format = "text";      // how workers write plugin log lines to stderr
  std::string log_level = "info";
  Millis cancel_grace{2000};     // past its deadline or cancel, how long a call may take to return
  Millis kill_grace{1000};       // after SIGTERM to a worker, before SIGKILL
  Millis start_timeout{120000};  // a worker's load of every plugin
};

struct PluginHostOptions {
  std::vector<std::string> plugin_dirs;
  // The directories of the built-in plugins, those packaged or built with this runner
  // (DefaultPluginDirs()); every other directory is the operator's (third-party plugins). The
  // built-in directories among plugin_dirs load first, whatever their order, so a third-party
  // plugin exporting a kind a built-in exports is refused as the newcomer, naming both files.
  std::vector<std::string> builtin_dirs;
  // Load every file that passes its checks and give each file's verdict in verdicts(), instead
  // of failing the whole load at the first refusal (`plugins verify`). In-process loads only.
  bool keep_going = false;
  // Optional pins: plugin file name (e.g. "matih-kubernetes.so") or absolute path -> lowercase
  // hex SHA-256. A pinned file that is missing or differs is refused.
  std::map<std::string, std::string> sha256_pins;
  // Skip the permission check (tests that build into world-writable temp dirs only).
  bool allow_insecure_permissions = false;
  WorkerOptions workers;
};

// One loaded plugin file, for `plugins verify` and `steps list`.
struct LoadedPluginInfo {
  std::string file;
  std::string name;
  std::string version;
  std::string abi_version;  // as the plugin was built, "1.2"
  std::vector<std::string> kinds;
  // False for plugins older than ABI 1.2, which cannot declare settings: the host then cannot
  // tell their settings from typos and passes unknown keys through with a warning.
  bool declares_settings = false;
  std::vector<DeclaredSetting> settings;
  std::vector<std::string> shared_secrets;  // names (or prefixes ending in '*') others may read
};

// One plugin file's verdict (or a directory's, or a pin's, when the refusal is theirs).
struct PluginVerdict {
  std::string file;
  bool builtin = false;  // found in one of PluginHostOptions::builtin_dirs
  bool ok = false;
  std::string reason;  // why it was refused; empty when ok
};

// The built-in plugin directories of this runner, those that exist: <prefix>/lib/matih-provisioner/plugins
// for an installed binary (<prefix>/bin/matih-provisioner), and <build>/plugins for one in a build
// tree (<build>/runner/matih-provisioner). Canonical paths.
std::vector<std::string> DefaultPluginDirs();

class PluginHost : public StepKindRegistry {
 public:
  // Loads the plugins into this process. With options.workers.enabled this is refused: process
  // isolation sits above this folder, so load with isolation::LoadPlugins (isolation/plugin_loader.h).
  static Result<std::unique_ptr<PluginHost>> Load(const PluginHostOptions& options);
  // A host serving kinds loaded elsewhere (by isolation/: in worker processes): `plugins` as
  // they were described, the kinds built by `make_kinds` given this host's table of what
  // plugins share of their secrets (which must outlive the kinds: the host owns both).
  using KindFactory = std::function<std::vector<std::unique_ptr<StepKind>>(const SharedSecrets* shared)>;
  static std::unique_ptr<PluginHost> Serve(std::vector<LoadedPluginInfo> plugins,
                                           const KindFactory& make_kinds);
  ~PluginHost() override;

  const StepKind* Find(std::string_view name) const override;
  std::vector<const StepKind*> All() const override;
  const std::vector<LoadedPluginInfo>& plugins() const;
  // Every file (directory, pin) considered, in load order, with its verdict. Filled by
  // in-process loads; with keep_going the host holds the files that were ok.
  const std::vector<PluginVerdict>& verdicts() const;
  // Checks the runner's [targets] keys against the settings the plugins declared: a key no
  // plugin declares is InvalidArgument naming it, unless a loaded plugin is too old to declare
  // its settings (then the key is passed through and named in `warnings`).
  // Keys in `ignore` are the runner's own and not checked.
  Status CheckSettings(const std::map<std::string, std::string>& targets, const std::set<std::string>& ignore,
                       std::vector<std::string>* warnings) const;
  // Checks every key file a plugin declared (MATIH_SETTING_KEY_FILE) that `targets` sets:
  // FailedPrecondition naming each bad one (plugin_host/key_file.h), one per line.
  Status CheckKeyFiles(const std::map<std::string, std::string>& targets) const;

 private:
  PluginHost();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace matih::runner
