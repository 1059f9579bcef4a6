#include "engine/provisioning_service.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "engine/tenant_targets.h"
#include "engine/tier_upgrade.h"
#include "telemetry/logger.h"
#include "telemetry/metrics.h"

namespace matih::runner {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool LeftSomethingBehind(StepStatus s) {
  return s == StepStatus::kDone || s == StepStatus::kRunning || s == StepStatus::kFailed ||
         s == StepStatus::kRemoving;
}

}  // namespace

ProvisioningService::ProvisioningService(ServiceDeps deps, TenantSession& session, const TenantRecord& tenant,
                                         std::map<int, StepRecord> records, const std::atomic<bool>* cancel)
    : deps_(std::move(deps)),
      session_(session),
      tenant_(tenant),
      records_(std::move(records)),
      cancel_(cancel) {
  if (!deps_.settings)
    deps_.settings = std::make_shared<const std::map<std::string, std::string>>(deps_.options->settings);
  for (const auto& [number, rec] : records_)
    if (!rec.outputs.empty()) outputs_[rec.name] = rec.outputs;
  // run.deadline counts from the provisioning's first claim (kept in the database, across
  // runs); a drift pass, never claimed for provisioning, counts from now.
  deadline_ = std::chrono::system_clock::now() + deps_.options->provisioning_deadline -
              Millis(tenant_.first_claim_age_ms.value_or(0));
  // The spec was validated when it was stored; a spec without a list requests no service.
  auto spec = nlohmann::json::parse(tenant_.spec_json, nullptr, false);
  if (spec.is_object() && spec.contains("services") && spec["services"].is_array())
    for (const auto& s : spec["services"])
      if (s.is_string()) services_.insert(s.get<std::string>());
  RefreshTargets();
}

void ProvisioningService::RefreshTargets() {
  TenantTargets::Inputs in;
  in.outputs = &outputs_;
  in.declared = &deps_.options->declared_settings;
  in.secrets = deps_.secrets;
  in.tenant_id = tenant_.id;
  in.plugin_of = [this](const std::string& step_name) -> std::string {
    const CatalogStep* step = deps_.catalog->FindByName(step_name);
    const StepKind* kind = step ? deps_.kinds->Find(step->kind) : nullptr;
    return kind ? kind->plugin_name() : "";
  };
  auto overlay = TenantTargets::Overlay(in);
  ContextChanged();
  targets_error_ = overlay.status();
  overlaid_ = overlay.ok() && !overlay->empty();
  if (!overlaid_) return;
  auto settings = std::make_shared<std::map<std::string, std::string>>(*deps_.settings);
  for (auto& [key, value] : *overlay) (*settings)[key] = std::move(value);
  tenant_settings_ = std::move(settings);
}

StepRecord& ProvisioningService::Record(const CatalogStep& step) {
  StepRecord& rec = records_[step.number];
  rec.number = step.number;
  rec.name = step.name;
  rec.phase = step.phase;
  return rec;
}

StepCall ProvisioningService::MakeCall(const CatalogStep& step, bool dry_run,
                                       const std::string* old_tier) const {
  StepCall call;
  call.tenant = tenant_.View();
  if (old_tier) call.tenant.tier = *old_tier;
  call.step_number = step.number;
  call.step_name = step.name;
  call.params_json = step.params_json;
  call.run_id = deps_.run_id;
  call.deadline = deadline_;
  call.dry_run = dry_run;
  if (!outputs_snapshot_ || snapshot_generation_ != context_generation_) {
    outputs_snapshot_ = std::make_shared<const TenantOutputs>(outputs_);
    snapshot_generation_ = context_generation_;
  }
  call.outputs_owner = outputs_snapshot_;
  call.outputs = outputs_snapshot_.get();
  call.secrets = deps_.secrets;
  call.settings_owner = overlaid_ && !old_tier ? tenant_settings_ : deps_.settings;
  call.settings = call.settings_owner.get();
  call.lease_epoch = session_.lease().epoch;
  call.lease_owner = session_.lease().owner;
  return call;
}

AuditEvent ProvisioningService::StepEvent(const std::string& event, const CatalogStep& step,
                                          const StepKind* kind) const {
  AuditEvent e;
  e.event = event;
  e.step_number = step.number;
  e.step_name = step.name;
  if (kind) {
    e.plugin = kind->plugin_name();
    e.plugin_version = kind->plugin_version();
    e.details["kind"] = kind->name();
  }
  return e;
}

const ExecutorHooks& ProvisioningService::Hooks(const CatalogStep& step, const StepKind& kind) {
  hook_step_ = &step;
  hook_kind_ = &kind;
  if (hooks_.on_retry) return hooks_;
  hooks_.on_retry = [this](int next_attempt, const StepAnswer& failed, Millis delay) {
    const CatalogStep& step = *hook_step_;
    AuditEvent e = StepEvent("step.retry", step, hook_kind_);
    e.details["attempt"] = next_attempt;
    e.details["error"] = failed.ToStatus().ToString();
    e.details["delay_ms"] = static_cast<int64_t>(delay.count());
    session_.Audit(e);
    if (deps_.metrics) deps_.metrics->Retry(step.name);
    Logger::Warn({deps_.run_id, tenant_.slug, step.name},
                 "transient error, retry " + std::to_string(next_attempt) + " in " + FormatDuration(delay) +
                     ": " + failed.ToStatus().ToString());
  };
  hooks_.on_timeout = [this] {
    if (deps_.metrics) deps_.metrics->Timeout(hook_step_->name);
  };
  return hooks_;
}

bool ProvisioningService::Interrupted(FlowResult& result, const CatalogStep& step) {
  // Not the step's fault: the step stays as its intent says, and is observed again next time.
  result.ok = false;
  result.error =
      Status(Code::kAborted, std::string(kCancelled) + " during step " + step.name, Reason::kCancelled);
  result.failed_step = step.number;
  return false;
}

void ProvisioningService::MarkSkipped(const CatalogStep& step) {
  StepRecord& rec = Record(step);
  if (rec.status == StepStatus::kSkipped) return;
  rec.status = StepStatus::kSkipped;
  rec.last_error.clear();
  rec.diff.clear();
  session_.SetStep(rec);
  if (deps_.metrics) deps_.metrics->StepRun(step.phase, step.name, "skipped", 0);
}

bool ProvisioningService::ConvergeStep(const CatalogStep& step, ConvergeMode mode, FlowResult& result) {
  const StepKind* kind = deps_.kinds->Find(step.kind);
  StepRecord& rec = Record(step);
  const LogFields log{deps_.run_id, tenant_.slug, step.name};
  auto started = std::chrono::steady_clock::now();
  auto fail = [&](const Status& error, const std::string& outcome) {
    rec.status = StepStatus::kFailed;
    rec.last_error = error.ToString();
    session_.SetStep(rec);
    AuditEvent e = StepEvent("step.failed", step, kind);
    e.details["error"] = error.ToString();
    session_.Audit(e);
    if (deps_.metrics) deps_.metrics->StepRun(step.phase, step.name, outcome, SecondsSince(started));
    Logger::Error(log, "failed: " + error.ToString());
    result.ok = false;
    result.error = error;
    result.failed_step = step.number;
    return false;
  };
  if (!kind)
    return fail(FailedPrecondition("no loaded plugin exports kind '" + step.kind + "'"), "permanent_error");
  if (!targets_error_.ok())
    return fail(Status(targets_error_.code(), "tenant targets: " + targets_error_.message()),
                targets_error_.retryable() ? "transient_error" : "permanent_error");
  const std::string placement = TierUpgrade::Placement(*this, step);
  if (std::chrono::system_clock::now() >= deadline_)
    return fail(
        Status(Code::kDeadlineExceeded, "provisioning deadline of " +
                                            FormatDuration(deps_.options->provisioning_deadline) + " passed"),
        "timeout");

  // Onboarding: the intent is durable before the step is even observed (riding with the previous
  // step's result), so a runner that dies in this step leaves exactly this step RUNNING.
  const StepStatus before = rec.status;
  const bool early_intent = mode == ConvergeMode::kProvision;
  if (!early_intent && unflushed_done_) {
    // The step applied before this one is still RUNNING in the database: record it DONE before
    // this one is observed, so that a runner dying here leaves no wrong step RUNNING.
    if (Status s = session_.Flush(); !s.ok()) {
      result.ok = false;
      result.session_failed = true;
      result.error = s;
      result.failed_step = step.number;
      return false;
    }
  }
  unflushed_done_ = false;
  if (early_intent) {
    rec.status = StepStatus::kRunning;
    session_.SetStep(rec);
    session_.Audit(StepEvent("step.started", step, kind));
    // An adoptable kind's intent may wait (tenant_session.h): a crash before its commit leaves
    // the step as it was, and the next run's observe adopts what the apply made.
    if (Status s = kind->adoptable() ? session_.Checkpoint(deps_.options->commit_interval) : session_.Flush();
        !s.ok()) {
      result.ok = false;
      result.session_failed = true;
      result.error = s;
      result.failed_step = step.number;
      return false;
    }
  }

  const ExecutorHooks& hooks = Hooks(step, *kind);
  int calls = 0;
  // Onboarding sends the observe and its apply (made only when the observe finds drift) in one
  // batch (one round trip to a worker process, or one hand-off to the helper thread in process):
  // nothing is written between the two, the intent is already durable. A drift pass takes the
  // observe made ahead with the next steps (Prefetch).
  std::optional<StepAnswer> first_observe;
  std::optional<StepAnswer> first_apply;
  if (early_intent) {
    BatchCall observe{kind, "observe", MakeCall(step, false), step.timeout, false};
    BatchCall apply{kind, "apply", MakeCall(step, false), step.timeout, true};
    BatchAnswers answers = StepExecutor::CallBatch({std::move(observe), std::move(apply)}, cancel_);
    if (answers.size() == 2) {
      first_observe = std::move(answers[0]);
      first_apply = std::move(answers[1]);
    }
  } else if (!early_intent) {
    first_observe = TakePrefetched(step);
  }
  const bool observed_ahead = first_observe && !first_observe->is_error();
  StepAnswer seen = StepExecutor::CallWithRetry(*kind, StepOp::kObserve, MakeCall(step, false), step.timeout,
                                                step.retry, cancel_, hooks, &calls, std::move(first_observe));
  if (!observed_ahead) first_apply.reset();  // made after another observe than this one
  if (seen.is_error() && Cancelled()) return Interrupted(result, step);
  if (seen.is_error()) {
    Status s = seen.ToStatus();
    return fail(Status(s.code(), "observe: " + s.message()),
                s.retryable() ? "transient_error" : "permanent_error");
  }
  if (seen.status == MATIH_STATUS_IN_SYNC) {
    // An adoptable kind's observe reports the outputs its apply sets (step_abi.h): on a drift pass
    // they are usually the ones recorded, and then nothing is written.
    bool outputs_changed = false;
    for (const auto& [k, v] : seen.outputs) {
      auto it = rec.outputs.find(k);
      if (it != rec.outputs.end() && it->second == v) continue;
      rec.outputs[k] = v;
      outputs_changed = true;
    }
    const bool placed = !placement.empty() && rec.outputs[TierUpgrade::kPlacementKey] != placement;
    if (placed) rec.outputs[TierUpgrade::kPlacementKey] = placement;
    if (outputs_changed || placed) {
      auto held = outputs_.find(step.name);
      if (held == outputs_.end() || held->second != rec.outputs) {
        outputs_[step.name] = rec.outputs;
        ContextChanged();
      }
    }
    if (outputs_changed) RefreshTargets();
    if (before != StepStatus::kDone || rec.status != StepStatus::kDone || outputs_changed || placed) {
      // Known in sync for the first time (adopted after a crash, or made by hand): record it.
      bool adopted = before == StepStatus::kRunning;
      rec.status = StepStatus::kDone;
      rec.last_error.clear();
      rec.diff.clear();
      session_.SetStep(rec);
      AuditEvent e = StepEvent("step.finished", step, kind);
      e.details["result"] = adopted ? "adopted" : "in_sync";
      session_.Audit(e);
    }
    if (deps_.metrics) deps_.metrics->StepRun(step.phase, step.name, "in_sync", SecondsSince(started));
    return true;
  }

  const bool drift = mode == ConvergeMode::kReconcile && rec.status == StepStatus::kDone;
  const std::string found = seen.status == MATIH_STATUS_DRIFTED ? "drifted" : "absent";
  if (drift) {
    ++result.drifted;
    AuditEvent e = StepEvent("drift.detected", step, kind);
    e.details["state"] = found;
    if (!seen.message.empty()) e.details["diff"] = seen.message;
    session_.Audit(e);
    if (deps_.metrics) deps_.metrics->DriftDetected(step.name);
    Logger::Warn(log, "drift detected (" + found + ")" + (seen.message.empty() ? "" : ": " + seen.message));
  }

  // The intent: durable before anything outside changes.
  // At a new placement (tier_upgrade.h): the old outputs are kept for removes at the old place;
  // an object absent here is a new one, and the old one stays until the flow has converged.
  if (TierUpgrade::MustMove(rec, placement))
    TierUpgrade::MarkLeftBehind(rec, seen.status == MATIH_STATUS_ABSENT);
  rec.status = StepStatus::kRunning;
  rec.attempts += 1;
  rec.diff = seen.message;
  session_.SetStep(rec);
  if (!early_intent) {
    AuditEvent start = StepEvent("step.started", step, kind);
    start.details["found"] = found;
    session_.Audit(start);
  }
  if (Status s = early_intent ? Status::Ok() : session_.Flush(); !s.ok()) {
    result.ok = false;
    result.session_failed = true;
    result.error = s;
    result.failed_step = step.number;
    return false;
  }

  StepAnswer applied =
      StepExecutor::CallWithRetry(*kind, StepOp::kApply, MakeCall(step, false), step.timeout, step.retry,
                                  cancel_, hooks, &calls, std::move(first_apply));
  if (applied.is_error() && Cancelled()) return Interrupted(result, step);
  if (applied.is_error()) {
    Status s = applied.ToStatus();
    std::string outcome = applied.status == MATIH_STATUS_DEADLINE_EXCEEDED ? "timeout"
                          : s.retryable()                                  ? "transient_error"
                                                                           : "permanent_error";
    return fail(s, outcome);
  }
  for (const auto& [k, v] : applied.outputs) rec.outputs[k] = v;
  if (!placement.empty()) rec.outputs[TierUpgrade::kPlacementKey] = placement;
  outputs_[step.name] = rec.outputs;
  ContextChanged();
  if (!applied.outputs.empty()) RefreshTargets();
  unflushed_done_ = true;
  rec.status = StepStatus::kDone;
  rec.last_error.clear();
  session_.SetStep(rec);
  AuditEvent done = StepEvent(drift ? "drift.corrected" : "step.finished", step, kind);
  done.details["result"] = "applied";
  done.details["found"] = found;
  done.details["calls"] = calls;
  if (drift && !seen.message.empty()) done.details["diff"] = seen.message;
  session_.Audit(done);
  ++result.applied;
  if (deps_.metrics) {
    deps_.metrics->StepRun(step.phase, step.name, "applied", SecondsSince(started));
    if (drift) deps_.metrics->DriftCorrected(step.name);
  }
  if (drift)
    Logger::Info(log, "drift corrected");
  else
    Logger::Debug(log, "applied");
  return true;
}

FlowResult ProvisioningService::Converge(ConvergeMode mode) {
  FlowResult result;
  const std::optional<int> resume_from = tenant_.resume_from_step;
  const std::vector<const CatalogStep*> ordered = deps_.catalog->Ordered(tenant_.tier);
  for (size_t at = 0; at < ordered.size(); ++at) {
    const CatalogStep* step = ordered[at];
    if (Cancelled()) {
      result.ok = false;
      result.error = Status(Code::kAborted, kCancelled, Reason::kCancelled);
      break;
    }
    StepRecord& rec = Record(*step);
    if (!deps_.catalog->Applies(*step, tenant_.tier, services_)) {
      // A step the tier no longer runs (a tier change) is undone before it is marked skipped.
      if (LeftSomethingBehind(rec.status) && step->enabled && deps_.kinds->Find(step->kind)) {
        if (!RemoveStep(*step, result)) break;
      }
      MarkSkipped(*step);
      continue;
    }
    bool known_done = rec.status == StepStatus::kDone && !(resume_from && step->number >= *resume_from);
    if (mode == ConvergeMode::kProvision && known_done &&
        !TierUpgrade::MustMove(rec, TierUpgrade::Placement(*this, *step)))
      continue;
    if (mode == ConvergeMode::kReconcile) Prefetch(ordered, at);
    if (!ConvergeStep(*step, mode, result)) break;
  }
  prefetched_.clear();
  return result;
}

void ProvisioningService::Prefetch(const std::vector<const CatalogStep*>& ordered, size_t from) {
  // Not after an apply whose DONE is still queued: it is written before the next observe.
  if (unflushed_done_ || !targets_error_.ok() || Cancelled()) return;
  if (prefetched_generation_ == context_generation_ && prefetched_.count(ordered[from]->number)) return;
  prefetched_.clear();
  const StepKind* first = deps_.kinds->Find(ordered[from]->kind);
  if (first == nullptr) return;
  constexpr size_t kMaxBatch = 64;
  std::vector<BatchCall> calls;
  for (size_t i = from; i < ordered.size() && calls.size() < kMaxBatch; ++i) {
    const CatalogStep& step = *ordered[i];
    if (!deps_.catalog->Applies(step, tenant_.tier, services_)) {
      // Skipped without a call, unless something must be removed first: the batch ends there.
      auto rec = records_.find(step.number);
      if (rec != records_.end() && LeftSomethingBehind(rec->second.status)) break;
      continue;
    }
    const StepKind* kind = deps_.kinds->Find(step.kind);
    if (kind == nullptr || !StepExecutor::Batches(*first, *kind)) break;
    calls.push_back({kind, "observe", MakeCall(step, false), step.timeout, false});
  }
  if (calls.size() < 2) return;  // one call gains nothing over the ordinary path
  std::vector<int> numbers;
  for (const BatchCall& c : calls) numbers.push_back(c.call.step_number);
  BatchAnswers answers = StepExecutor::CallBatch(std::move(calls), cancel_);
  for (size_t i = 0; i < answers.size() && i < numbers.size(); ++i)
    if (answers[i]) prefetched_[numbers[i]] = std::move(*answers[i]);
  prefetched_generation_ = context_generation_;
}

std::optional<StepAnswer> ProvisioningService::TakePrefetched(const CatalogStep& step) {
  if (prefetched_generation_ != context_generation_) {
    prefetched_.clear();
    return std::nullopt;
  }
  auto found = prefetched_.find(step.number);
  if (found == prefetched_.end()) return std::nullopt;
  StepAnswer answer = std::move(found->second);
  prefetched_.erase(found);
  return answer;
}

bool ProvisioningService::RemoveStep(const CatalogStep& step, FlowResult& result) {
  const StepKind* kind = deps_.kinds->Find(step.kind);
  StepRecord& rec = Record(step);
  auto started = std::chrono::steady_clock::now();
  if (!kind) {
    result.ok = false;
    result.error = FailedPrecondition("cannot remove step " + step.name +
                                      ": no loaded plugin exports kind '" + step.kind + "'");
    result.failed_step = step.number;
    return false;
  }
  rec.status = StepStatus::kRemoving;
  session_.SetStep(rec);
  session_.Audit(StepEvent("step.removing", step, kind));
  if (Status s = session_.Flush(); !s.ok()) {
    result.ok = false;
    result.session_failed = true;
    result.error = s;
    result.failed_step = step.number;
    return false;
  }
  int calls = 0;
  StepAnswer answer = StepExecutor::CallWithRetry(*kind, StepOp::kRemove, MakeCall(step, false), step.timeout,
                                                  step.retry, cancel_, Hooks(step, *kind), &calls);
  if (answer.is_error() && Cancelled()) return Interrupted(result, step);
  if (answer.is_error()) {
    Status s = answer.ToStatus();
    rec.last_error = "remove: " + s.ToString();
    session_.SetStep(rec);
    AuditEvent e = StepEvent("step.failed", step, kind);
    e.details["error"] = rec.last_error;
    session_.Audit(e);
    if (deps_.metrics) deps_.metrics->StepRun(step.phase, step.name, "remove_failed", SecondsSince(started));
    result.ok = false;
    result.error = Status(s.code(), "remove " + step.name + ": " + s.message());
    result.failed_step = step.number;
    return false;
  }
  rec.status = StepStatus::kRemoved;
  const bool had_targets = TenantTargets::HasOverlay({{step.name, rec.outputs}});
  rec.outputs.clear();
  rec.last_error.clear();
  outputs_.erase(step.name);
  ContextChanged();
  if (had_targets) RefreshTargets();
  session_.SetStep(rec);
  session_.Audit(StepEvent("step.removed", step, kind));
  ++result.applied;
  if (deps_.metrics) deps_.metrics->StepRun(step.phase, step.name, "removed", SecondsSince(started));
  Logger::Debug({deps_.run_id, tenant_.slug, step.name}, "removed");
  return true;
}

FlowResult ProvisioningService::RemoveAll() {
  // Objects an unfinished move left at the old placement go first.
  FlowResult result = TierUpgrade::RemoveLeftBehind(*this, false);
  if (!result.ok) return result;
  auto ordered = deps_.catalog->Ordered(tenant_.tier);
  std::reverse(ordered.begin(), ordered.end());
  for (const CatalogStep* step : ordered) {
    if (Cancelled()) {
      result.ok = false;
      result.error = Status(Code::kAborted, kCancelled, Reason::kCancelled);
      break;
    }
    if (!LeftSomethingBehind(Record(*step).status)) continue;
    if (!RemoveStep(*step, result)) break;
  }
  return result;
}

std::vector<PlannedStep> ProvisioningService::Plan() {
  std::vector<PlannedStep> plan;
  for (const CatalogStep* step : deps_.catalog->Ordered(tenant_.tier)) {
    PlannedStep p{step->number, step->name, "skipped", ""};
    const StepKind* kind = deps_.kinds->Find(step->kind);
    if (deps_.catalog->Applies(*step, tenant_.tier, services_)) {
      if (!kind) {
        p.state = "error";
        p.diff = "no loaded plugin exports kind '" + step->kind + "'";
      } else {
        StepAnswer a = StepExecutor::CallOnce(*kind, StepOp::kObserve, MakeCall(*step, true), step->timeout,
                                              cancel_, {});
        switch (a.status) {
          case MATIH_STATUS_IN_SYNC: p.state = "in_sync"; break;
          case MATIH_STATUS_DRIFTED:
            p.state = "drifted";
            p.diff = a.message;
            break;
          case MATIH_STATUS_ABSENT: p.state = "absent"; break;
          default:
            p.state = "error";
            p.diff = a.ToStatus().ToString();
            break;
        }
      }
    }
    plan.push_back(std::move(p));
  }
  std::sort(plan.begin(), plan.end(), [](const auto& a, const auto& b) { return a.number < b.number; });
  return plan;
}

}  // namespace matih::runner
