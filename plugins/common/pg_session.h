// PgSession: one PostgreSQL connection for one step call, with libpqxx's exceptions turned into
// step errors at our boundary.
//
// Error philosophy (what the host will see; SQLSTATEs classified by common/sql_state.h):
//   - server unreachable, connection lost, out of resources, shutting down -> TransientError;
//   - serialization failure or deadlock (SQLSTATE class 40), lock not available -> ABORTED
//     (transient: the host retries the whole call, which re-reads everything);
//   - anything else the server refuses (constraint, permission, syntax) -> PermanentError.
// The connection URL is never part of a message (it may hold a password).
//
// Not thread-safe: one session per call, on the calling thread.
#pragma once

#include <matih/step.hpp>
#include <memory>
#include <pqxx/pqxx>
#include <string>

namespace matih::plugins {

// Call from inside a catch block: rethrows the current exception as a matih::Error. `what` says
// what we were doing ("reserve capacity"). matih::Error passes through unchanged.
[[noreturn]] void RethrowAsStepError(const std::string& what);

class PgSession {
 public:
  // Connects; TransientError when the server cannot be reached.
  explicit PgSession(const std::string& url);

  pqxx::connection& connection() { return *connection_; }

  // Runs fn(pqxx::work&) in one transaction and commits; every failure becomes a step error.
  template <typename Fn>
  auto Transact(const std::string& what, Fn&& fn) {
    try {
      pqxx::work tx(*connection_);
      if constexpr (std::is_void_v<decltype(fn(tx))>) {
        fn(tx);
        tx.commit();
      } else {
        auto result = fn(tx);
        tx.commit();
        return result;
      }
    } catch (...) {
      RethrowAsStepError(what);
    }
  }

 private:
  std::unique_ptr<pqxx::connection> connection_;
};

}  // namespace matih::plugins
