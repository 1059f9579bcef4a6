// VerifyPluginsInChild: `plugins verify` loads the plugin files in a forked child process, never
// in the runner's own, so a plugin whose static initialiser or registration function crashes,
// exits or hangs cannot take the command down with it.
//
// The child loads every file (PluginHost::Load with keep_going), runs `checks` on the host it
// got (catalog, settings, key files), and sends the whole report through a pipe. When the child
// dies instead (a signal, an exit from a plugin, or no answer within `timeout`), the file it was
// loading is named from the child's memory map: a crash handler installed in the child (and the
// parent, for a hang) reads /proc/<pid>/maps, and the last candidate file in load order that is
// mapped is the one being loaded (files load one at a time, in the host's documented order, and
// stay mapped: RTLD_NODELETE). That file gets the verdict "crashed while loading (signal 11)"
// (or "ended the process while loading (exit status N)", "did not finish loading within 30 s"),
// and a new child loads the rest with that file refused before it is mapped (a pin it cannot
// match). So every other file still gets its own verdict.
//
// Call from one thread (the command's); the runner must not hold other threads that a fork
// would leave half-copied (plugins verify starts none).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/status.h"
#include "plugin_host/plugin_host.h"

namespace matih::runner {

struct PluginVerifyReport {
  std::vector<PluginVerdict> verdicts;    // every file considered, in load order
  std::vector<LoadedPluginInfo> plugins;  // the files that loaded
  Status catalog = Status::Ok();
  Status settings = Status::Ok();
  Status key_files = Status::Ok();
  std::vector<std::string> warnings;
};

// Runs in the child, on the host it loaded: fills the report's catalog, settings, key_files and
// warnings.
using PluginVerifyChecks = std::function<void(const PluginHost& host, PluginVerifyReport& report)>;

// `options` must load in process (workers disabled); keep_going is set here. An error only when
// the verification itself could not be made (fork failed, or a child died without a file to blame).
Result<PluginVerifyReport> VerifyPluginsInChild(PluginHostOptions options, const PluginVerifyChecks& checks,
                                                Millis timeout);

}  // namespace matih::runner
