#include "common/status.h"

namespace matih::runner {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kUnavailable: return "unavailable";
    case Code::kAborted: return "aborted";
    case Code::kDeadlineExceeded: return "deadline_exceeded";
    case Code::kInvalidArgument: return "invalid_argument";
    case Code::kFailedPrecondition: return "failed_precondition";
    case Code::kPermissionDenied: return "permission_denied";
    case Code::kNotFound: return "not_found";
    case Code::kResourceExhausted: return "resource_exhausted";
    case Code::kCancelled: return "cancelled";
    case Code::kInternal: return "internal";
    case Code::kUnimplemented: return "unimplemented";
  }
  return "internal";
}

Code CodeFromAbi(matih_status status) {
  switch (status) {
    case MATIH_STATUS_OK: return Code::kOk;
    case MATIH_STATUS_UNAVAILABLE: return Code::kUnavailable;
    case MATIH_STATUS_ABORTED: return Code::kAborted;
    case MATIH_STATUS_DEADLINE_EXCEEDED: return Code::kDeadlineExceeded;
    case MATIH_STATUS_INVALID_ARGUMENT: return Code::kInvalidArgument;
    case MATIH_STATUS_FAILED_PRECONDITION: return Code::kFailedPrecondition;
    case MATIH_STATUS_PERMISSION_DENIED: return Code::kPermissionDenied;
    case MATIH_STATUS_NOT_FOUND: return Code::kNotFound;
    case MATIH_STATUS_RESOURCE_EXHAUSTED: return Code::kResourceExhausted;
    case MATIH_STATUS_CANCELLED: return Code::kCancelled;
    case MATIH_STATUS_INTERNAL: return Code::kInternal;
    case MATIH_STATUS_UNIMPLEMENTED: return Code::kUnimplemented;
    default: return Code::kInternal;
  }
}

bool IsRetryable(Code code) {
  return code == Code::kUnavailable || code == Code::kAborted || code == Code::kDeadlineExceeded;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace matih::runner
