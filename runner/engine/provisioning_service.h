// ProvisioningService: runs a tenant's steps one by one and records every move.
//
// For each step of the tier's flow: observe, apply only when drifted or absent, record the
// outputs; a step the tier does not run is recorded SKIPPED. Before an apply or remove changes
// anything outside, its intent (RUNNING / REMOVING) is made durable, riding in the same commit as
// the previous step's result. After a crash the step left RUNNING is observed before anything
// is applied, so a created object is adopted, never created twice. Onboarding makes the intent
// durable before the observe too, and a drift pass writes an applied step's result before the
// next step is observed: the step a dead runner left RUNNING is the one that was running.
// One instance per worker thread; the catalog, kinds and metrics it is given are shared.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/engine_options.h"
#include "engine/step_catalog.h"
#include "engine/step_executor.h"
#include "model/step_kind.h"
#include "model/tenant_record.h"
#include "store/tenant_session.h"

namespace matih::runner {

class Metrics;
class SecretStore;

struct ServiceDeps {
  const StepCatalog* catalog = nullptr;
  const StepKindRegistry* kinds = nullptr;
  SecretStore* secrets = nullptr;
  Metrics* metrics = nullptr;  // may be null
  const EngineOptions* options = nullptr;
  std::string run_id;
  std::string runner;
  // options->settings as one immutable snapshot the run's calls share (made once per run); null:
  // each service makes its own.
  std::shared_ptr<const std::map<std::string, std::string>> settings;
};

// The message of the Aborted status a flow ends with when its tenant was cancelled (its reason is
// Reason::kCancelled, which FlowResult::cancelled() tests; nothing branches on this text).
inline constexpr const char* kCancelled = "cancelled: the tenant's lease was lost or the runner is stopping";

// How a pass over the steps ended.
struct FlowResult {
  bool ok = true;
  bool session_failed = false;  // a write of the session failed (lease lost, database gone)
  Status error;                 // the failure that stopped the flow
  int failed_step = 0;          // its number
  int applied = 0;              // steps applied (or removed)
  int drifted = 0;              // steps found drifted or absent on an active tenant
  // Stopped by the tenant's cancel flag (lease trouble or a stop request).
  bool cancelled() const { return error.reason() == Reason::kCancelled; }
};

// What plan reports for one step.
struct PlannedStep {
  int number = 0;
  std::string name;
  std::string state;  // in_sync | drifted | absent | skipped | error
  std::string diff;
};

enum class ConvergeMode {
  kProvision,  // skip steps known DONE (resume), converge the rest
  kReconcile,  // observe every step that applies; apply what drifted (drift pass, upgrade)
};

class ProvisioningService {
 public:
  ProvisioningService(ServiceDeps deps, TenantSession& session, const TenantRecord& tenant,
                      std::map<int, StepRecord> records, const std::atomic<bool>* cancel);
  ProvisioningService(const ProvisioningService&) = delete;  // hooks_ holds `this`
  ProvisioningService& operator=(const ProvisioningService&) = delete;

  // Converges the tenant's steps in flow order. Queued writes are flushed before each apply.
  FlowResult Converge(ConvergeMode mode);
  // Removes every step that may have left something behind, in reverse flow order.
  FlowResult RemoveAll();
  // Observes every step with dry_run set; writes nothing anywhere.
  std::vector<PlannedStep> Plan();

 private:
  friend class TierUpgrade;  // moves objects between placements (tier_upgrade.h)
  // `old_tier`: a call as the tenant was on the shared targets under that tier (no overlay).
  StepCall MakeCall(const CatalogStep& step, bool dry_run, const std::string* old_tier = nullptr) const;
  // Lays the tenant's target.* outputs over the runner's settings (tenant_targets.h).
  void RefreshTargets();
  // The executor's hooks for a call of `step` (valid until the next Hooks call; made once per
  // service, not per step: they read the step and kind set here).
  const ExecutorHooks& Hooks(const CatalogStep& step, const StepKind& kind);
  AuditEvent StepEvent(const std::string& event, const CatalogStep& step, const StepKind* kind) const;
  StepRecord& Record(const CatalogStep& step);
  // Observes, then applies when needed; false on failure (recorded).
  bool ConvergeStep(const CatalogStep& step, ConvergeMode mode, FlowResult& result);
  bool RemoveStep(const CatalogStep& step, FlowResult& result);
  // Records nothing and stops the flow: the tenant was cancelled while `step` ran.
  bool Interrupted(FlowResult& result, const CatalogStep& step);
  void MarkSkipped(const CatalogStep& step);
  bool Cancelled() const { return cancel_ && cancel_->load(); }
  // Drift pass: observes `ordered[from]` and the steps after it that can join its batch
  // (StepExecutor::Batches: the same plugin over one round trip in process isolation, any
  // in-process kinds in one hand-off to the helper thread); observe changes nothing. Their
  // answers are used while the calls' inputs (outputs, settings) stay as they were sent.
  void Prefetch(const std::vector<const CatalogStep*>& ordered, size_t from);
  // The prefetched observe of `step`, when its inputs are still those it was made with.
  std::optional<StepAnswer> TakePrefetched(const CatalogStep& step);
  // Outputs or settings changed: calls made before see stale inputs.
  void ContextChanged() { ++context_generation_; }

  ServiceDeps deps_;
  TenantSession& session_;
  TenantRecord tenant_;
  std::map<int, StepRecord> records_;
  TenantOutputs outputs_;
  // outputs_ as an immutable snapshot the calls share; remade (copy on write) when
  // context_generation_ moved past snapshot_generation_.
  mutable std::shared_ptr<const TenantOutputs> outputs_snapshot_;
  mutable uint64_t snapshot_generation_ = 0;
  const std::atomic<bool>* cancel_;
  std::chrono::system_clock::time_point deadline_;
  std::set<std::string> services_;  // requested in the tenant's spec, for steps with when_service
  // [targets] with the tenant's overlay (immutable; replaced when the overlay changes)
  std::shared_ptr<const std::map<std::string, std::string>> tenant_settings_;
  bool overlaid_ = false;                   // tenant_settings_ is in use
  Status targets_error_;                    // a bad overlay fails every step
  bool unflushed_done_ = false;             // the last step was applied; its DONE is queued, not written
  uint64_t context_generation_ = 0;         // bumped whenever outputs_ or the settings change
  uint64_t prefetched_generation_ = 0;      // context_generation_ when prefetched_ was made
  std::map<int, StepAnswer> prefetched_;    // observes made ahead, by step number
  const CatalogStep* hook_step_ = nullptr;  // the step and kind Hooks() was last called for
  const StepKind* hook_kind_ = nullptr;
  ExecutorHooks hooks_;  // made once (constructor), reading hook_step_ and hook_kind_
};

}  // namespace matih::runner
