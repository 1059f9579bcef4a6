#include "model/tenant_record.h"

namespace matih::runner {

const char* ToString(StepStatus s) {
  switch (s) {
    case StepStatus::kPending: return "PENDING";
    case StepStatus::kRunning: return "RUNNING";
    case StepStatus::kDone: return "DONE";
    case StepStatus::kFailed: return "FAILED";
    case StepStatus::kSkipped: return "SKIPPED";
    case StepStatus::kRemoving: return "REMOVING";
    case StepStatus::kRemoved: return "REMOVED";
  }
  return "PENDING";
}

StepStatus ParseStepStatus(const std::string& s) {
  for (StepStatus v : {StepStatus::kPending, StepStatus::kRunning, StepStatus::kDone, StepStatus::kFailed,
                       StepStatus::kSkipped, StepStatus::kRemoving, StepStatus::kRemoved})
    if (s == ToString(v)) return v;
  return StepStatus::kPending;
}

}  // namespace matih::runner
