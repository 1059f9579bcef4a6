// LoadPlugins: the one entry point that loads the step plugins the way the options say.
//
// With options.workers.enabled (plugins.isolation = process), nothing is loaded into this
// process: a first worker process loads the plugins (every check included) and describes them,
// and the host serves IsolatedStepKinds over the worker pool. Otherwise the plugins load in
// process (PluginHost::Load). Call from one thread; the host returned is as PluginHost says.
#pragma once

#include <memory>

#include "common/status.h"
#include "plugin_host/plugin_host.h"

namespace matih::runner::isolation {

Result<std::unique_ptr<PluginHost>> LoadPlugins(const PluginHostOptions& options);

}  // namespace matih::runner::isolation
