// PgPool: PostgreSQL connections of this plugin, kept open between step calls and reused.
//
// A PgServer is one configured server (a libpq URL from a setting) and names it for messages by
// host and port only (never the URL, which may hold a password). PgPool keeps at most
// `max_idle` idle connections in all, the most recently used first; a reused one is checked with
// a round trip before it is handed out (a server restart or DROP DATABASE ... WITH (FORCE) kills
// idle sessions), a broken one is dropped. A Lease returns its connection when it goes out of
// scope, unless an exception is unwinding (the session state is then unknown: it is closed).
//
// Errors (all name the step and the server): unreachable -> TransientError; login refused
// (authentication failed, no such role or database) -> PermanentError PERMISSION_DENIED.
// Thread-safe: one pool per plugin, shared by every call; a Lease belongs to one thread.
#pragma once

#include <cstddef>
#include <list>
#include <matih/step.hpp>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <utility>

namespace matih::plugins::data {

class PgServer {
 public:
  // InvalidArgument naming `setting_key` when `url` is not a libpq URL or key=value string.
  PgServer(const std::string& url, const std::string& setting_key);

  // A connection string for database `dbname` on this server ("" keeps the URL's database).
  // A connect_timeout of 5 s and application_name matih-data are added when the URL has none.
  std::string Conninfo(const std::string& dbname = "") const;
  // "PostgreSQL <host>:<port>", for messages.
  const std::string& label() const { return label_; }
  const std::string& host() const { return host_; }
  const std::string& port() const { return port_; }

 private:
  std::list<std::pair<std::string, std::string>> options_;  // keyword, value (dbname removed)
  std::string dbname_;
  std::string host_, port_, label_;
};

class PgPool {
 public:
  class Lease {
   public:
    Lease(PgPool* pool, std::string key, std::unique_ptr<pqxx::connection> connection);
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& operator*() { return *connection_; }
    pqxx::connection* operator->() { return connection_.get(); }

   private:
    PgPool* pool_;
    std::string key_;
    std::unique_ptr<pqxx::connection> connection_;
    int uncaught_ = 0;
  };

  explicit PgPool(size_t max_idle = 8) : max_idle_(max_idle) {}

  // A connection to `dbname` on `server` ("" = the URL's database), for step `ctx`.
  Lease Acquire(const Context& ctx, const PgServer& server, const std::string& dbname = "");

 private:
  void Release(std::string key, std::unique_ptr<pqxx::connection> connection);
  std::unique_ptr<pqxx::connection> TakeIdle(const std::string& key);

  const size_t max_idle_;
  std::mutex mu_;
  std::list<std::pair<std::string, std::unique_ptr<pqxx::connection>>> idle_;  // GUARDED_BY(mu_)
};

// Call from a catch block: rethrows the current exception as a step error whose message names
// the step, `server` and `what` (see common/pg_session.h for the mapping of SQLSTATEs).
[[noreturn]] void RethrowPgError(const Context& ctx, const PgServer& server, const std::string& what);

// The pool of this plugin (one per process).
PgPool& SharedPgPool();

}  // namespace matih::plugins::data
