#include "store/db_link.h"

#include <algorithm>
#include <thread>

namespace matih::runner {

Status DbLink::Reconnect(std::chrono::steady_clock::time_point until) {
  Millis delay(100);
  Status last = Unavailable("database unreachable");
  for (;;) {
    if (gave_up_ && gave_up_->load()) return Unavailable("database unreachable: the run gave up on it");
    auto c = db_.Connect();
    if (c.ok()) {
      conn_ = std::move(*c);
      return Status::Ok();
    }
    last = c.status();
    if (last.code() != Code::kUnavailable) return last;
    auto now = std::chrono::steady_clock::now();
    if (now >= until) break;
    std::this_thread::sleep_for(std::min<Millis>(delay, std::chrono::duration_cast<Millis>(until - now)));
    delay = std::min<Millis>(delay * 2, Millis(2'000));
  }
  if (gave_up_) gave_up_->store(true);
  return Unavailable(last.message() + " (gave up after " + FormatDuration(bound_) + ", run.db_reconnect)");
}

Status DbLink::Open() {
  if (conn_) return Status::Ok();
  return Reconnect(std::chrono::steady_clock::now() + bound_);
}

Status DbLink::OpenOnce() {
  if (conn_) return Status::Ok();
  auto c = db_.Connect();
  if (!c.ok()) return c.status();
  conn_ = std::move(*c);
  return Status::Ok();
}

Status DbLink::Retry(const std::function<Status(pqxx::connection&)>& f) {
  if (Status s = Open(); !s.ok()) return s;
  std::chrono::steady_clock::time_point until{};
  for (;;) {
    Status s = f(*conn_);
    if (s.code() != Code::kUnavailable) return s;
    // libpqxx 6 reports some statement errors (a bind with the wrong parameter count) as a broken
    // connection: a connection libpq still holds as open was not lost, so it is not waited for.
    if (conn_->is_open()) return Status(Code::kInternal, s.message() + " (the connection is still open)");
    // Lost: the connection is unusable; open a new one within the bound and run f again.
    conn_.reset();
    if (until == std::chrono::steady_clock::time_point{}) until = std::chrono::steady_clock::now() + bound_;
    if (std::chrono::steady_clock::now() >= until) {
      // Connecting works but f keeps failing as if the connection were lost: stop there.
      if (gave_up_) gave_up_->store(true);
      return Status(Code::kUnavailable,
                    s.message() + " (gave up after " + FormatDuration(bound_) + ", run.db_reconnect)");
    }
    if (Status r = Reconnect(until); !r.ok())
      return Status(Code::kUnavailable, s.message() + "; " + r.message());
    ++reconnects_;
  }
}

}  // namespace matih::runner
