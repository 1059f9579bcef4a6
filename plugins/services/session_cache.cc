#include "services/session_cache.h"

#include <matih/step.hpp>

namespace matih::plugins::services {

void SessionCache::With(const std::string& url, const std::function<void(PgSession&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& session = sessions_[url];
  if (session && !session->connection().is_open()) session.reset();
  // A kept connection may have been closed by the server since the last call (restart, idle
  // timeout, an operator's pg_terminate_backend) without libpq knowing yet: such a call gets one
  // more go on a fresh connection. Every caller's work is a converging, idempotent transaction.
  for (bool reused = session != nullptr;; reused = false) {
    if (!session) session = std::make_unique<PgSession>(url);
    try {
      fn(*session);
      return;
    } catch (const Error& e) {
      const bool lost = e.code() == MATIH_STATUS_UNAVAILABLE || !session->connection().is_open();
      if (lost) session.reset();
      if (lost && reused) continue;
      throw;
    } catch (...) {
      session.reset();
      throw;
    }
  }
}

}  // namespace matih::plugins::services
