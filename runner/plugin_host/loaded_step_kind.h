// LoadedStepKind: a StepKind served by a plugin's C ABI table.
//
// Turns each engine call into one on_* call with a fresh HostCall behind the context, and turns
// whatever the plugin does into a well-formed StepAnswer: an exception that escapes the plugin,
// an unknown status value or an answer that does not fit the operation (OK from observe,
// IN_SYNC from apply) becomes INTERNAL with a message naming the kind, its plugin file and the
// value. Apply and Remove refuse to run in a dry run, so planning can never change anything.
// Outputs set during a call that failed are dropped (the ABI records them only on success).
//
// Holds raw pointers into the plugin's [static] table: the PluginHost keeps the library loaded
// for longer than any LoadedStepKind. Safe to call from any thread; the object is immutable.
#pragma once

#include <matih/step_abi.h>

#include <string>

#include "model/step_kind.h"
#include "plugin_host/host_services.h"

namespace matih::runner {

// Who a kind came from, copied from the plugin's table at load.
struct PluginIdentity {
  std::string file;     // the path it was loaded from
  std::string name;     // matih_plugin.name
  std::string version;  // matih_plugin.version
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
  PluginScope scope;  // secret namespace, credential settings, what others share
};

class LoadedStepKind final : public StepKind {
 public:
  // `kind` is a copy of the plugin's entry, zero-filled past what the plugin's struct had and
  // with struct_size set to the bytes actually copied.
  LoadedStepKind(PluginIdentity plugin, const matih_step_kind& kind);

  const std::string& name() const override { return name_; }
  const std::string& description() const override { return description_; }
  const std::string& plugin_name() const override { return plugin_.name; }
  const std::string& plugin_version() const override { return plugin_.version; }
  const std::string& plugin_file() const override { return plugin_.file; }
  std::string abi_version() const override;

  StepAnswer Observe(const StepCall& call) const override;
  StepAnswer Apply(const StepCall& call) const override;
  StepAnswer Remove(const StepCall& call) const override;
  Status ValidateParams(const std::string& params_json) const override;
  bool adoptable() const override;

 private:
  enum class Operation { kObserve, kApply, kRemove };
  using OnCall = matih_status (*)(void*, matih_step_context*);

  StepAnswer Invoke(Operation op, OnCall fn, const StepCall& call) const;
  // Checks the plugin's answer against what `op` may answer; fixes up `answer` when it does not.
  void Normalize(Operation op, matih_status raw, StepAnswer& answer) const;
  std::string Describe() const;  // "kind dns.zone (plugin /path/x.so)"

  PluginIdentity plugin_;
  matih_step_kind kind_;
  std::string name_;
  std::string description_;
};

}  // namespace matih::runner
