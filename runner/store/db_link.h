// DbLink: one thread's connection to the runner's database, reopened with backoff when it is
// lost, within a bound (run.db_reconnect).
//
// Retry(f) runs f on the connection; when f fails with Unavailable (the connection was lost or
// the server refused it), the link reconnects with exponential backoff until the bound is spent,
// then calls f again. Past the bound it gives up, raises the shared `gave_up` flag (so the other
// threads of the run stop waiting for a database that is gone) and returns Unavailable. f must be
// safe to run again: every caller passes one whole transaction.
// Not thread-safe: a link belongs to one thread. `gave_up` may be shared by many links.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "common/duration.h"
#include "common/status.h"
#include "store/database.h"

namespace matih::runner {

class DbLink {
 public:
  DbLink(const Database& db, Millis bound, std::atomic<bool>* gave_up = nullptr)
      : db_(db), bound_(bound), gave_up_(gave_up) {}

  // Opens the connection now (with the same bounded retries).
  Status Open();
  // Opens the connection with one attempt (at the start of a command: an unreachable database is
  // reported at once, not waited for).
  Status OpenOnce();
  bool open() const { return conn_ != nullptr; }
  // The current connection; Open() or Retry() must have succeeded first.
  pqxx::connection& conn() { return *conn_; }

  Status Retry(const std::function<Status(pqxx::connection&)>& f);
  // How many times the connection was reopened after a loss.
  int reconnects() const { return reconnects_; }

 private:
  // Reconnects with backoff until `until`; Unavailable when the bound is spent.
  Status Reconnect(std::chrono::steady_clock::time_point until);

  const Database& db_;
  Millis bound_;
  std::atomic<bool>* gave_up_;
  std::unique_ptr<pqxx::connection> conn_;
  int reconnects_ = 0;
};

}  // namespace matih::runner
