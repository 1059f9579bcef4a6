// Status and Result<T>: how the runner reports errors that callers must handle.
//
// The codes map one-to-one onto the plugin ABI's status codes (matih/step_abi.h), so an error a
// plugin returns keeps its meaning all the way to the operator. Retryable: Unavailable, Aborted,
// DeadlineExceeded. Everything else that is not OK is permanent.
#pragma once

#include <matih/step_abi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace matih::runner {

enum class Code : int32_t {
  kOk = MATIH_STATUS_OK,
  kUnavailable = MATIH_STATUS_UNAVAILABLE,
  kAborted = MATIH_STATUS_ABORTED,
  kDeadlineExceeded = MATIH_STATUS_DEADLINE_EXCEEDED,
  kInvalidArgument = MATIH_STATUS_INVALID_ARGUMENT,
  kFailedPrecondition = MATIH_STATUS_FAILED_PRECONDITION,
  kPermissionDenied = MATIH_STATUS_PERMISSION_DENIED,
  kNotFound = MATIH_STATUS_NOT_FOUND,
  kResourceExhausted = MATIH_STATUS_RESOURCE_EXHAUSTED,
  kCancelled = MATIH_STATUS_CANCELLED,
  kInternal = MATIH_STATUS_INTERNAL,
  kUnimplemented = MATIH_STATUS_UNIMPLEMENTED,
};

// Why, where one code has several causes the engine must tell apart: set where the error is made
// and tested by the engine, which never reads a message to decide. kNone for most errors.
enum class Reason : int32_t {
  kNone,
  kLeaseLost,  // Aborted: another runner or an operator holds the tenant's lease now
  kCancelled,  // Aborted: the tenant's work was cancelled (lease trouble, runner stopping)
};

// Canonical lower-case name of a code ("unavailable", "invalid_argument", ...).
const char* CodeName(Code code);
// Maps an ABI status that is an error to a Code; unknown values become kInternal.
Code CodeFromAbi(matih_status status);
bool IsRetryable(Code code);

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Status(Code code, std::string message, Reason reason)
      : code_(code), message_(std::move(message)), reason_(reason) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  Reason reason() const { return reason_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return IsRetryable(code_); }
  // "unavailable: connection refused"
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  Reason reason_ = Reason::kNone;
};

inline Status InvalidArgument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
inline Status FailedPrecondition(std::string m) { return Status(Code::kFailedPrecondition, std::move(m)); }
inline Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
inline Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
inline Status Aborted(std::string m) { return Status(Code::kAborted, std::move(m)); }
inline Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }

// A value or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: must not be OK

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace matih::runner
