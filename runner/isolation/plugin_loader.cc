#include "isolation/plugin_loader.h"

#include <utility>
#include <vector>

#include "isolation/isolated_step_kind.h"
#include "isolation/worker_pool.h"

namespace matih::runner::isolation {

Result<std::unique_ptr<PluginHost>> LoadPlugins(const PluginHostOptions& options) {
  if (!options.workers.enabled) return PluginHost::Load(options);
  auto pool = WorkerPool::Start(options);
  if (!pool.ok()) return pool.status();
  std::shared_ptr<WorkerPool> workers = *pool;
  return PluginHost::Serve(workers->plugins(), [&workers](const SharedSecrets* shared) {
    std::vector<std::unique_ptr<StepKind>> kinds;
    for (const KindDescription& kind : workers->kinds()) {
      kinds.push_back(std::make_unique<IsolatedStepKind>(kind, workers, shared));
    }
    return kinds;
  });
}

}  // namespace matih::runner::isolation
