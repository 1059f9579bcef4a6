// The messages between the runner and a plugin worker (runner/isolation/worker_main.cc), as
// JSON objects carried by frame_io. One conversation per worker, strictly request/answer:
//
//   runner -> worker  {"op":"load", dirs, pins, allow_insecure, log_format, log_level}
//   worker -> runner  {"op":"loaded", "code":0, plugins:[...], kinds:[...]} or {"code":N,"message":...}
//   runner -> worker  {"op":"call", method, kind, tenant, step..., outputs, [settings]}
//     worker -> runner  {"op":"secret", action: get|put|delete, name, [value]}   (zero or more,
//     runner -> worker  {"op":"secret_reply", code, [value]}                      each answered)
//   worker -> runner  {"op":"result", status, message, outputs}
//   runner -> worker  {"op":"validate", kind, params}  ->  {"op":"validated", code, message}
//
// Cancellation is out of band: SIGUSR1 to the worker raises the cancel flag of its current call.
// `settings` is sent only when it differs from what the worker holds (the runner's [targets]
// rarely change); an absent key means "the same as last time".
// Stateless helpers; safe from any thread.
#pragma once

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
};

nlohmann::json ToJson(const LoadedPluginInfo& info);
LoadedPluginInfo PluginInfoFromJson(const nlohmann::json& j);
nlohmann::json ToJson(const KindDescription& kind);
KindDescription KindFromJson(const nlohmann::json& j);

// The StepCall fields a worker needs (all but pointers); outputs go along as a copy.
nlohmann::json CallToJson(const StepCall& call);
// Fills `call` from `j`; `outputs` receives the tenant's outputs (call.outputs is pointed at it).
void CallFromJson(const nlohmann::json& j, StepCall& call, TenantOutputs& outputs);

nlohmann::json AnswerToJson(const StepAnswer& answer);
StepAnswer AnswerFromJson(const nlohmann::json& j);

}  // namespace matih::runner::isolation
