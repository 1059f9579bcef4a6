// IsolatedStepKind: a StepKind whose calls run in a plugin worker process (worker_pool.h).
//
// The engine sees the same interface as for an in-process kind; this one always returns by the
// call's deadline plus the pool's graces, because a call that overstays ends its worker. It
// holds the pool (shared by every isolated kind of a PluginHost) and the description the worker
// gave at load. Immutable; safe to call from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "isolation/protocol.h"
#include "isolation/worker_pool.h"
#include "model/step_kind.h"
#include "plugin_host/host_services.h"

namespace matih::runner::isolation {

class IsolatedStepKind final : public StepKind {
 public:
  // `shared` must outlive this object (the PluginHost owns both).
  IsolatedStepKind(KindDescription kind, std::shared_ptr<WorkerPool> pool, const SharedSecrets* shared)
      : kind_(std::move(kind)), pool_(std::move(pool)), shared_(shared) {}

  const std::string& name() const override { return kind_.name; }
  const std::string& description() const override { return kind_.description; }
  const std::string& plugin_name() const override { return kind_.plugin_name; }
  const std::string& plugin_version() const override { return kind_.plugin_version; }
  const std::string& plugin_file() const override { return kind_.plugin_file; }
  std::string abi_version() const override { return kind_.abi_version; }
  bool stops_on_deadline() const override { return true; }
  bool adoptable() const override { return kind_.adoptable; }

  StepAnswer Observe(const StepCall& call) const override {
    return pool_->Call(kind_, "observe", call, shared_);
  }
  StepAnswer Apply(const StepCall& call) const override { return pool_->Call(kind_, "apply", call, shared_); }
  StepAnswer Remove(const StepCall& call) const override {
    return pool_->Call(kind_, "remove", call, shared_);
  }
  bool batches() const override { return true; }
  // Every call must be of an isolated kind of this kind's plugin (one plugin per batch, so a
  // plugin never names another's call for its secrets); otherwise empty (call one by one).
  BatchAnswers CallBatch(const std::vector<BatchCall>& calls) const override {
    std::vector<WorkerPool::Item> items;
    for (const BatchCall& c : calls) {
      const auto* kind = dynamic_cast<const IsolatedStepKind*>(c.kind);
      if (kind == nullptr || kind->pool_ != pool_ || kind->kind_.plugin_name != kind_.plugin_name) return {};
      items.push_back({&kind->kind_, &c});
    }
    return pool_->CallBatch(items, shared_);
  }
  Status ValidateParams(const std::string& params_json) const override {
    return pool_->Validate(kind_, params_json);
  }

  const WorkerPool& pool() const { return *pool_; }

 private:
  KindDescription kind_;
  std::shared_ptr<WorkerPool> pool_;
  const SharedSecrets* shared_;
};

}  // namespace matih::runner::isolation
