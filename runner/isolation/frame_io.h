// Frames between the runner and its plugin workers: a 4-byte big-endian length, then that many
// bytes of JSON (one object). FrameReader buffers what arrived so a read can wait with a
// timeout and resume; WriteFrame blocks until the whole frame is sent (MSG_NOSIGNAL: a dead peer
// is an error, never SIGPIPE).
//
// Thread safety: one FrameReader per descriptor, used by one thread at a time.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace matih::runner::isolation {

// A frame longer than this is a broken peer, not a message.
constexpr size_t kMaxFrameBytes = 256u << 20;

// Sends `message` as one frame. Unavailable when the peer is gone.
Status WriteFrame(int fd, const nlohmann::json& message);

class FrameReader {
 public:
  enum class Result { kFrame, kTimeout, kClosed, kError };

  explicit FrameReader(int fd) : fd_(fd) {}
  // Waits up to `timeout_ms` (-1: forever) for one whole frame and parses it into `out`.
  // kClosed: the peer closed (or reset) the connection; kError: a malformed frame or read error,
  // described by error().
  Result Read(int timeout_ms, nlohmann::json& out);
  const std::string& error() const { return error_; }

 private:
  bool TakeFrame(nlohmann::json& out, Result& result);

  int fd_;
  std::string buffer_;
  std::string error_;
};

}  // namespace matih::runner::isolation
