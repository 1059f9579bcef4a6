#include "plugin_host/loaded_step_kind.h"

#include <cstddef>
#include <utility>

#include "plugin_host/host_services.h"

namespace matih::runner {
namespace {

const char* OperationName(int op) {
  switch (op) {
    case 0: return "observe";
    case 1: return "apply";
    default: return "remove";
  }
}

bool IsKnownStatus(matih_status s) {
  switch (s) {
    case MATIH_STATUS_OK:
    case MATIH_STATUS_IN_SYNC:
    case MATIH_STATUS_DRIFTED:
    case MATIH_STATUS_ABSENT:
    case MATIH_STATUS_UNAVAILABLE:
    case MATIH_STATUS_ABORTED:
    case MATIH_STATUS_DEADLINE_EXCEEDED:
    case MATIH_STATUS_INVALID_ARGUMENT:
    case MATIH_STATUS_FAILED_PRECONDITION:
    case MATIH_STATUS_PERMISSION_DENIED:
    case MATIH_STATUS_NOT_FOUND:
    case MATIH_STATUS_RESOURCE_EXHAUSTED:
    case MATIH_STATUS_CANCELLED:
    case MATIH_STATUS_INTERNAL:
    case MATIH_STATUS_UNIMPLEMENTED: return true;
    default: return false;
  }
}

bool IsErrorStatus(matih_status s) { return IsKnownStatus(s) && s >= MATIH_STATUS_UNAVAILABLE; }

const char* SuccessName(matih_status s) {
  switch (s) {
    case MATIH_STATUS_OK: return "OK";
    case MATIH_STATUS_IN_SYNC: return "IN_SYNC";
    case MATIH_STATUS_DRIFTED: return "DRIFTED";
    default: return "ABSENT";
  }
}

}  // namespace

LoadedStepKind::LoadedStepKind(PluginIdentity plugin, const matih_step_kind& kind)
    : plugin_(std::move(plugin)),
      kind_(kind),
      name_(kind.name ? kind.name : ""),
      description_(kind.description ? kind.description : "") {}

bool LoadedStepKind::adoptable() const {
  // Kinds of plugins older than 1.3 have no flags field: not adoptable.
  return MATIH_ABI_HAS_FIELD(&kind_, matih_step_kind, flags) && (kind_.flags & MATIH_KIND_ADOPTABLE) != 0;
}

std::string LoadedStepKind::abi_version() const {
  return std::to_string(plugin_.abi_major) + "." + std::to_string(plugin_.abi_minor);
}

std::string LoadedStepKind::Describe() const { return "kind " + name_ + " (plugin " + plugin_.file + ")"; }

StepAnswer LoadedStepKind::Observe(const StepCall& call) const {
  return Invoke(Operation::kObserve, kind_.on_observe, call);
}

StepAnswer LoadedStepKind::Apply(const StepCall& call) const {
  return Invoke(Operation::kApply, kind_.on_apply, call);
}

StepAnswer LoadedStepKind::Remove(const StepCall& call) const {
  return Invoke(Operation::kRemove, kind_.on_remove, call);
}

StepAnswer LoadedStepKind::Invoke(Operation op, OnCall fn, const StepCall& call) const {
  StepAnswer answer;
  const char* op_name = OperationName(static_cast<int>(op));
  if (call.dry_run && op != Operation::kObserve) {
    answer.status = MATIH_STATUS_FAILED_PRECONDITION;
    answer.message = Describe() + ": " + op_name + " refused in a dry run (planning only observes)";
    return answer;
  }
  HostCall host_call(call, answer, name_, &plugin_.scope);
  matih_status raw = MATIH_STATUS_INTERNAL;
  try {
    raw = fn(kind_.kind_data, host_call.context());
  } catch (const std::exception& e) {
    // The ABI forbids this; a plugin built without our C++ layer may still do it. Its message
    // may quote anything the plugin held, so it is redacted like any other.
    answer.message =
        Describe() + " let an exception escape from " + op_name + ": " + host_call.Redact(e.what());
    raw = MATIH_STATUS_INTERNAL;
  } catch (...) {
    answer.message = Describe() + " let an unknown exception escape from " + op_name;
    raw = MATIH_STATUS_INTERNAL;
  }
  Normalize(op, raw, answer);
  // Belt and braces: set_message already redacts, but the message may have been composed here.
  answer.message = host_call.Redact(answer.message);
  return answer;
}

void LoadedStepKind::Normalize(Operation op, matih_status raw, StepAnswer& answer) const {
  const char* op_name = OperationName(static_cast<int>(op));
  auto suffix = [&answer] {
    return answer.message.empty() ? std::string() : " (its message: " + answer.message + ")";
  };

  if (!IsKnownStatus(raw)) {
    answer.message =
        Describe() + " answered unknown status " + std::to_string(raw) + " from " + op_name + suffix();
    answer.status = MATIH_STATUS_INTERNAL;
  } else if (IsErrorStatus(raw)) {
    answer.status = raw;
    if (answer.message.empty()) {
      answer.message =
          Describe() + " failed in " + op_name + " with " + CodeName(CodeFromAbi(raw)) + " and no message";
    }
  } else {
    bool fits = op == Operation::kObserve ? (raw == MATIH_STATUS_IN_SYNC || raw == MATIH_STATUS_DRIFTED ||
                                             raw == MATIH_STATUS_ABSENT)
                                          : raw == MATIH_STATUS_OK;
    if (fits) {
      answer.status = raw;
      if (raw != MATIH_STATUS_DRIFTED) {
        answer.message.clear();  // a message belongs to DRIFTED and to errors only
      } else if (answer.message.empty()) {
        answer.message = Describe() + " found drift but gave no diff";
      }
      return;
    }
    const char* expected =
        op == Operation::kObserve ? "IN_SYNC, DRIFTED, ABSENT or an error" : "OK or an error";
    answer.message = Describe() + " answered " + SuccessName(raw) + " from " + op_name +
                     ", which must answer " + expected + suffix();
    answer.status = MATIH_STATUS_INTERNAL;
  }
  answer.outputs.clear();  // only a successful call records outputs
}

Status LoadedStepKind::ValidateParams(const std::string& params_json) const {
  // 1.0 plugins have no on_validate_params: the field is not even in their struct.
  if (!MATIH_ABI_HAS_FIELD(&kind_, matih_step_kind, on_validate_params) ||
      kind_.on_validate_params == nullptr) {
    return Status::Ok();
  }
  char error[1024] = {0};
  matih_status raw = MATIH_STATUS_INTERNAL;
  try {
    raw = kind_.on_validate_params(kind_.kind_data, matih_str{params_json.data(), params_json.size()}, error,
                                   sizeof error);
  } catch (...) {
    return Internal(Describe() + " let an exception escape from validate_params");
  }
  error[sizeof error - 1] = '\0';
  if (raw == MATIH_STATUS_OK) return Status::Ok();
  std::string reason = error[0] != '\0' ? std::string(error) : std::string("no reason given");
  if (!IsErrorStatus(raw)) {
    return Internal(Describe() + " answered status " + std::to_string(raw) +
                    " from validate_params, which must answer OK or an error: " + reason);
  }
  return Status(CodeFromAbi(raw), Describe() + " refused its params: " + reason);
}

}  // namespace matih::runner
