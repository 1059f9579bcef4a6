#include "isolation/frame_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace matih::runner::isolation {

Status WriteFrame(int fd, const nlohmann::json& message) {
  const std::string body = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (body.size() > kMaxFrameBytes)
    return Internal("frame of " + std::to_string(body.size()) + " bytes is too long");
  const uint32_t n = static_cast<uint32_t>(body.size());
  unsigned char header[4] = {
      static_cast<unsigned char>((n >> 24) & 0xff), static_cast<unsigned char>((n >> 16) & 0xff),
      static_cast<unsigned char>((n >> 8) & 0xff), static_cast<unsigned char>(n & 0xff)};
  // Header and body leave in one system call, without copying the body into a frame buffer.
  size_t sent = 0;
  const size_t total = sizeof header + body.size();
  while (sent < total) {
    iovec parts[2];
    int count = 0;
    if (sent < sizeof header) parts[count++] = {header + sent, sizeof header - sent};
    const size_t body_from = sent < sizeof header ? 0 : sent - sizeof header;
    parts[count++] = {const_cast<char*>(body.data()) + body_from, body.size() - body_from};
    msghdr msg{};
    msg.msg_iov = parts;
    msg.msg_iovlen = static_cast<size_t>(count);
    ssize_t w = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Unavailable(std::string("cannot write to the plugin worker socket: ") + std::strerror(errno));
    }
    sent += static_cast<size_t>(w);
  }
  return Status::Ok();
}

bool FrameReader::TakeFrame(nlohmann::json& out, Result& result) {
  if (buffer_.size() < 4) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data());
  const uint32_t n = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
  if (n > kMaxFrameBytes) {
    error_ = "frame length " + std::to_string(n) + " exceeds the limit";
    result = Result::kError;
    return true;
  }
  if (buffer_.size() < 4 + size_t{n}) return false;
  try {
    out = nlohmann::json::parse(buffer_.begin() + 4, buffer_.begin() + 4 + n);
    result = out.is_object() ? Result::kFrame : Result::kError;
    if (result == Result::kError) error_ = "frame is not a JSON object";
  } catch (const std::exception& e) {
    error_ = std::string("frame is not JSON: ") + e.what();
    result = Result::kError;
  }
  buffer_.erase(0, 4 + size_t{n});
  return true;
}

FrameReader::Result FrameReader::Read(int timeout_ms, nlohmann::json& out) {
  Result result = Result::kFrame;
  if (TakeFrame(out, result)) return result;
  for (;;) {
    // Without a timeout the read itself waits: one system call fewer per frame.
    pollfd pfd{fd_, POLLIN, 0};
    int r = timeout_ms < 0 ? 1 : ::poll(&pfd, 1, timeout_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      error_ = std::string("poll: ") + std::strerror(errno);
      return Result::kError;
    }
    if (r == 0) return Result::kTimeout;
    char chunk[65536];
    ssize_t got = ::read(fd_, chunk, sizeof chunk);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) return Result::kClosed;
      error_ = std::string("read: ") + std::strerror(errno);
      return Result::kError;
    }
    if (got == 0) return Result::kClosed;
    buffer_.append(chunk, static_cast<size_t>(got));
    if (TakeFrame(out, result)) return result;
  }
}

}  // namespace matih::runner::isolation
