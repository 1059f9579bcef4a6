// StepKind: the engine's view of one step kind, whatever implements it.
//
// The plugin host implements it over a plugin's C ABI table; the engine only ever sees this
// interface, so it never touches raw ABI structs. A StepCall carries everything a kind may read
// during one call; the StepAnswer carries what it said back.
//
// Thread safety: Observe/Apply/Remove may be called concurrently from several worker threads,
// each with its own StepCall. A StepKindRegistry is immutable after loading.
#pragma once

#include <matih/step_abi.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "common/status.h"

namespace matih::runner {

class SecretStore;

using StepOutputs = std::map<std::string, std::string>;
// Outputs of a tenant's steps, by step name.
using TenantOutputs = std::map<std::string, StepOutputs>;

struct TenantView {
  std::string id;    // UUID
  std::string slug;  // RFC 1035 label
  std::string tier;  // free|starter|professional|enterprise
  std::string region;
  std::string spec_json;  // a JSON object
};

// The inputs of one call. Pointers are borrowed for the duration of the call; null pointers mean
// "none" (no outputs, no secrets store, never cancelled, no settings). A caller that keeps its
// outputs and settings as immutable shared snapshots sets `outputs_owner` / `settings_owner` to
// them (with `outputs` / `settings` pointing at the same objects): StepExecutor then lets an
// in-process call hold those pointers instead of copying; borrowed pointers without an owner are
// copied. Either way a call that outlives its timeout never reads what the engine freed;
// `secrets` must outlive the process's calls.
struct StepCall {
  TenantView tenant;
  int step_number = 0;
  std::string step_name;
  std::string params_json = "{}";
  std::string run_id;
  std::chrono::system_clock::time_point deadline;
  bool dry_run = false;
  const TenantOutputs* outputs = nullptr;
  const std::atomic<bool>* cancel = nullptr;
  SecretStore* secrets = nullptr;
  const std::map<std::string, std::string>* settings = nullptr;  // the runner's [targets]
  int64_t lease_epoch = 0;  // the fencing token of the runner's lease on the tenant; 0: none
  // The runner's lease owner; non-empty: the call's secret writes are fenced by it and lease_epoch
  // (SecretStore::PutFenced), so a runner whose lease was taken over changes no secret.
  std::string lease_owner;
  // Immutable snapshots `outputs` and `settings` point into, when the caller shares them.
  std::shared_ptr<const TenantOutputs> outputs_owner;
  std::shared_ptr<const std::map<std::string, std::string>> settings_owner;
};

// What the kind answered. `status` is the raw ABI status (IN_SYNC, DRIFTED, ABSENT, OK or an
// error); `message` is the diff or the error text; `outputs` were set during the call.
struct StepAnswer {
  matih_status status = MATIH_STATUS_INTERNAL;
  std::string message;
  StepOutputs outputs;

  bool is_error() const { return status >= MATIH_STATUS_UNAVAILABLE; }
  Status ToStatus() const { return is_error() ? Status(CodeFromAbi(status), message) : Status::Ok(); }
};

class StepKind;

// One call of a batch (StepKind::CallBatch). `method`: observe, apply or remove. `timeout`
// counts from the moment this call starts (0: none beyond call.deadline). With `if_needed` the
// call runs only when the call before it answered DRIFTED or ABSENT (an apply after its observe).
struct BatchCall {
  const StepKind* kind = nullptr;
  const char* method = "observe";
  StepCall call;
  Millis timeout{0};
  bool if_needed = false;
};

// What a batch answered, call by call; nullopt for a call that did not run (skipped, or after
// the call that ended the batch: an error, a cancel, or an observe that found drift).
using BatchAnswers = std::vector<std::optional<StepAnswer>>;

// The batch rules, for every place that runs a batch (in process and in a plugin worker).
// Whether a call runs after `previous`, the answer of the call before it (null: it did not run).
inline bool BatchCallRuns(bool if_needed, const StepAnswer* previous) {
  return !if_needed ||
         (previous && (previous->status == MATIH_STATUS_DRIFTED || previous->status == MATIH_STATUS_ABSENT));
}
// Whether the batch ends after a call of `method` answered `answer` (a cancel ends it too): at an
// error, or at an observe that found drift unless an if_needed call (its apply) follows.
inline bool BatchEndsAfter(std::string_view method, const StepAnswer& answer, bool next_if_needed) {
  if (answer.is_error()) return true;
  return method == "observe" && answer.status != MATIH_STATUS_IN_SYNC && !next_if_needed;
}

class StepKind {
 public:
  virtual ~StepKind() = default;
  virtual const std::string& name() const = 0;
  virtual const std::string& description() const = 0;
  virtual const std::string& plugin_name() const = 0;
  virtual const std::string& plugin_version() const = 0;
  virtual const std::string& plugin_file() const = 0;
  // "1.1": the ABI version the plugin was built with.
  virtual std::string abi_version() const = 0;

  virtual StepAnswer Observe(const StepCall& call) const = 0;
  virtual StepAnswer Apply(const StepCall& call) const = 0;
  virtual StepAnswer Remove(const StepCall& call) const = 0;
  // Checks a catalog entry's params; OK when the kind has no opinion.
  virtual Status ValidateParams(const std::string& params_json) const = 0;
  // True when every call returns by its deadline (plus a bounded grace) and honours
  // `call.cancel` on its own, whatever the plugin does: a process-isolated kind, which stops its
  // worker. The executor then calls it on the caller's thread; otherwise the call runs on a
  // thread of its own that may have to be abandoned.
  virtual bool stops_on_deadline() const { return false; }
  // True when the kind declares its objects adoptable (MATIH_KIND_ADOPTABLE, step ABI 1.3): an
  // observe finds whatever an interrupted or unrecorded apply made, so its intent and result may
  // be committed late (with later steps). False for kinds of older plugins.
  virtual bool adoptable() const { return false; }
  // True when CallBatch runs several calls over one round trip (a process-isolated kind).
  virtual bool batches() const { return false; }
  // Runs `calls`, all of kinds of this kind's plugin and one tenant, one after another; each keeps
  // its own timeout and the cancel flag of calls.front().call. Empty when batching is not
  // supported (then call one by one).
  virtual BatchAnswers CallBatch(const std::vector<BatchCall>& calls) const {
    (void)calls;
    return {};
  }
};

class StepKindRegistry {
 public:
  virtual ~StepKindRegistry() = default;
  // nullptr when no loaded plugin exports `name`.
  virtual const StepKind* Find(std::string_view name) const = 0;
  virtual std::vector<const StepKind*> All() const = 0;
};

}  // namespace matih::runner
