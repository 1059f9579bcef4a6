// The messages between the runner and a plugin worker (runner/isolation/worker_main.cc), as
// JSON objects carried by frame_io. One conversation per worker, strictly request/answer:
//
//   runner -> worker  {"op":"load", dirs, pins, allow_insecure, log_format, log_level}
//   worker -> runner  {"op":"loaded", "code":0, plugins:[...], kinds:[...]} or {"code":N,"message":...}
//   runner -> worker  {"op":"batch", [tenant], [outputs, outputs_drop, outputs_reset], [settings],
//                      run_id, lease_epoch, dry_run, has_secrets,
//                      calls:[[method, kind, step_number, step_name, params_json, deadline_ms,
//                              timeout_ms, if_needed], ...]}
//     worker -> runner  {"op":"secret", index, action: get|put|delete, name, [value]}  (zero or
//     runner -> worker  {"op":"secret_reply", code, [value]}                  more, each answered)
//   worker -> runner  {"op":"results", answers:[[status, [message, [outputs]]] | null, ...], [retire]}
//   runner -> worker  {"op":"validate", kind, params}  ->  {"op":"validated", code, message}
//
// A batch is one tenant's calls of one plugin (one call is a batch of one); the worker runs them
// in order and stops after an error, a cancel, or an observe that found drift unless the next
// call is its if_needed apply. The tenant's context rides once per batch, and only what changed
// since the worker's previous batch: `tenant` when it differs, `outputs` as the steps whose
// outputs changed (`outputs_drop`: steps gone; `outputs_reset`: start from none), `settings`
// when they differ (the runner's [targets] rarely change). An absent key means "as before".
// The worker says which call runs in a shared page (WorkerProgress, fd 4), so the runner holds
// each call of a batch to its own timeout without a frame per call.
//
// Calls and answers are arrays, not objects: no key is written or parsed per call, and an
// answer's empty message and outputs are left out.
//
// Cancellation is out of band: SIGUSR1 to the worker raises the cancel flag of its current call.
// Stateless helpers; safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/step_kind.h"
#include "plugin_host/plugin_host.h"

namespace matih::runner::isolation {

// What a worker loaded, as the runner needs it to serve kinds without loading them itself.
struct KindDescription {
  std::string name;
  std::string description;
  std::string plugin_name;
  std::string plugin_version;
  std::string plugin_file;
  std::string abi_version;
  std::string secret_namespace;  // "" for plugins older than ABI 1.2
  bool adoptable = false;        // MATIH_KIND_ADOPTABLE (ABI 1.3); false from older workers
};

nlohmann::json ToJson(const LoadedPluginInfo& info);
LoadedPluginInfo PluginInfoFromJson(const nlohmann::json& j);
nlohmann::json ToJson(const KindDescription& kind);
KindDescription KindFromJson(const nlohmann::json& j);

// Which call of its batch a worker runs, in a page both map (MAP_SHARED): the worker writes
// started_ns (steady clock, system-wide on Linux) then index; index -1: between batches.
struct WorkerProgress {
  std::atomic<int32_t> index{-1};
  std::atomic<int64_t> started_ns{0};
};
static_assert(std::atomic<int32_t>::is_always_lock_free && std::atomic<int64_t>::is_always_lock_free,
              "WorkerProgress is shared between processes");
// The descriptor a worker finds its progress page on.
inline constexpr int kProgressFd = 4;

nlohmann::json ToJson(const TenantView& tenant);
TenantView TenantFromJson(const nlohmann::json& j);

nlohmann::json AnswerToJson(const StepAnswer& answer);
StepAnswer AnswerFromJson(const nlohmann::json& j);

}  // namespace matih::runner::isolation
