#include "engine/tier_upgrade.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "telemetry/logger.h"

namespace matih::runner {

std::string TierUpgrade::Placement(const ProvisioningService& service, const CatalogStep& step) {
  const TierFlow* flow = service.deps_.catalog->Flow(service.tenant_.tier);
  if (!flow) return "";
  // The step's own `placed` wins over its phase's (a phase-6 object on the tenant's NATS).
  if (!step.placed.value_or(flow->placed.count(step.phase) > 0)) return "";
  return std::string(service.overlaid_ ? "dedicated:" : "shared:") + service.tenant_.tier;
}

bool TierUpgrade::MustMove(const StepRecord& rec, const std::string& placement) {
  if (placement.empty() || rec.status != StepStatus::kDone) return false;
  auto it = rec.outputs.find(kPlacementKey);
  return it != rec.outputs.end() && !it->second.empty() && it->second != placement;
}

void TierUpgrade::MarkLeftBehind(StepRecord& rec, bool object_left) {
  if (!rec.outputs.count(kLeftBehindOutputsKey)) {
    nlohmann::json old = nlohmann::json::object();
    for (const auto& [key, value] : rec.outputs)
      if (key.rfind("runner.", 0) != 0) old[key] = value;
    rec.outputs[kLeftBehindOutputsKey] = old.dump();
  }
  if (object_left && !rec.outputs.count(kLeftBehindKey))
    rec.outputs[kLeftBehindKey] = rec.outputs[kPlacementKey];
}

FlowResult TierUpgrade::RemoveLeftBehind(ProvisioningService& service, bool verify) {
  FlowResult result;
  // The tenant's outputs as they were at the old placement, for the removes there.
  TenantOutputs old_outputs = service.outputs_;
  for (const auto& [number, rec] : service.records_) {
    auto snapshot = rec.outputs.find(kLeftBehindOutputsKey);
    if (snapshot == rec.outputs.end()) continue;
    auto j = nlohmann::json::parse(snapshot->second, nullptr, false);
    if (!j.is_object()) continue;
    StepOutputs& outputs = old_outputs[rec.name];
    outputs.clear();
    for (const auto& [key, value] : j.items())
      if (value.is_string()) outputs[key] = value.get<std::string>();
  }
  auto ordered = service.deps_.catalog->Ordered(service.tenant_.tier);
  std::reverse(ordered.begin(), ordered.end());
  for (const CatalogStep* step : ordered) {
    StepRecord& rec = service.Record(*step);
    auto left = rec.outputs.find(kLeftBehindKey);
    if (left == rec.outputs.end()) continue;
    if (service.Cancelled()) {
      result.ok = false;
      result.error = Status(Code::kAborted, kCancelled, Reason::kCancelled);
      result.failed_step = step->number;
      return result;
    }
    const std::string from = left->second;
    const StepKind* kind = service.deps_.kinds->Find(step->kind);
    auto stop = [&](const Status& error) {
      rec.last_error = error.ToString();
      service.session_.SetStep(rec);
      AuditEvent e = service.StepEvent("step.failed", *step, kind);
      e.details["error"] = rec.last_error;
      service.session_.Audit(e);
      result.ok = false;
      result.error = error;
      result.failed_step = step->number;
      return result;
    };
    if (!kind)
      return stop(FailedPrecondition("cannot remove step " + step->name + " from " + from +
                                     ": no loaded plugin exports kind '" + step->kind + "'"));
    // "shared:free" -> the call the step got when it was applied there: that tier, no overlay.
    const auto colon = from.find(':');
    const std::string old_tier = colon == std::string::npos ? from : from.substr(colon + 1);
    const bool old_shared = from.rfind("shared:", 0) == 0;
    int calls = 0;
    StepCall call = service.MakeCall(*step, false, old_shared ? &old_tier : nullptr);
    if (!old_shared) call.tenant.tier = old_tier;  // same overlay, the old tier's sizes
    call.outputs = &old_outputs;
    StepAnswer answer = StepExecutor::CallWithRetry(*kind, StepOp::kRemove, call, step->timeout, step->retry,
                                                    service.cancel_, service.Hooks(*step, *kind), &calls);
    if (answer.is_error() && service.Cancelled()) {
      service.Interrupted(result, *step);
      return result;
    }
    if (answer.is_error()) {
      Status s = answer.ToStatus();
      return stop(
          Status(s.code(), "remove " + step->name + " from its old place (" + from + "): " + s.message()));
    }
    rec.outputs.erase(kLeftBehindKey);
    service.outputs_[step->name] = rec.outputs;
    service.ContextChanged();
    rec.last_error.clear();
    service.session_.SetStep(rec);
    AuditEvent moved = service.StepEvent("step.moved", *step, kind);
    moved.details["from"] = from;
    moved.details["to"] = rec.outputs.count(kPlacementKey) ? rec.outputs.at(kPlacementKey) : "";
    service.session_.Audit(moved);
    ++result.applied;
    Logger::Info({service.deps_.run_id, service.tenant_.slug, step->name},
                 "removed from its old place " + from);
    if (!verify || rec.status != StepStatus::kDone) continue;
    // The old and the new place may have been one (nothing told them apart): converge again.
    if (!service.ConvergeStep(*step, ConvergeMode::kReconcile, result)) return result;
  }
  // Every old object is gone: the old outputs are no longer needed.
  for (auto& [number, rec] : service.records_) {
    if (!rec.outputs.erase(kLeftBehindOutputsKey)) continue;
    service.outputs_[rec.name] = rec.outputs;
    service.ContextChanged();
    service.session_.SetStep(rec);
  }
  return result;
}

std::string TierUpgrade::LeftToDo(const ProvisioningService& service) {
  std::string to_move, to_remove;
  for (const CatalogStep* step : service.deps_.catalog->Ordered(service.tenant_.tier)) {
    auto it = service.records_.find(step->number);
    if (it == service.records_.end()) continue;
    const StepRecord& rec = it->second;
    const std::string placement = Placement(service, *step);
    auto at = rec.outputs.find(kPlacementKey);
    if (!placement.empty() && at != rec.outputs.end() && at->second != placement &&
        service.deps_.catalog->Applies(*step, service.tenant_.tier, service.services_))
      to_move += (to_move.empty() ? "" : ", ") + std::to_string(step->number);
    if (rec.outputs.count(kLeftBehindKey))
      to_remove += (to_remove.empty() ? "" : ", ") + std::to_string(step->number) + " (" +
                   rec.outputs.at(kLeftBehindKey) + ")";
  }
  std::string left;
  if (!to_move.empty()) left = "steps still to apply at the new place: " + to_move;
  if (!to_remove.empty())
    left +=
        (left.empty() ? "" : "; ") + std::string("steps still to remove from the old place: ") + to_remove;
  return left;
}

}  // namespace matih::runner
