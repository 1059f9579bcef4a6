// SessionCache: one PostgreSQL session per database URL, kept between step calls and used by them
// in turn, so step 39 does not open a connection on every call. A session whose connection is
// closed, or whose call failed with a transient error (connection lost, server going away), is
// dropped; a call that failed so on a kept session is run once more on a fresh connection. Statements run in
// transactions that SET LOCAL their role, so nothing of one call's session state leaks into the next.
//
// Safe to call from any thread; calls are serialised on one mutex (step 39's transactions are
// short). Owned by the Step object, so it lives as long as the loaded plugin.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/pg_session.h"

namespace matih::plugins::services {

class SessionCache {
 public:
  // Runs fn with the cached session for `url` (connecting when there is none); rethrows what fn
  // throws. TransientError when the server cannot be reached.
  void With(const std::string& url, const std::function<void(PgSession&)>& fn);

 private:
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<PgSession>> sessions_;
};

}  // namespace matih::plugins::services
