// PgPool: a few idle PostgreSQL sessions (common/pg_session.h) per connection URL, kept between
// step calls so a plugin does not open a connection per call.
//
// Acquire() hands out an idle session for the URL or connects a new one (TransientError when the
// server cannot be reached). The Lease gives the session back when it goes out of scope, unless
// an exception is passing through at that moment (the session may be broken or mid-transaction:
// it is closed instead) or the connection is no longer open. At most `max_idle` sessions per URL
// are kept; the others are closed on return.
//
// Thread-safe: any thread may Acquire; a Lease and its session belong to the thread that holds it.
// A plugin keeps one PgPool for the life of the process (a function-local static); it must
// outlive every Lease.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/pg_session.h"

namespace matih::plugins {

class PgPool {
 public:
  explicit PgPool(size_t max_idle = 4) : max_idle_(max_idle) {}
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PgSession& operator*() { return *session_; }
    PgSession* operator->() { return session_.get(); }

   private:
    friend class PgPool;
    Lease(PgPool* pool, std::string url, std::unique_ptr<PgSession> session);
    PgPool* pool_;
    std::string url_;
    std::unique_ptr<PgSession> session_;
    int exceptions_at_start_;
  };

  Lease Acquire(const std::string& url);
  // Idle sessions kept for `url` (tests).
  size_t IdleCount(const std::string& url);

 private:
  void Return(const std::string& url, std::unique_ptr<PgSession> session);

  const size_t max_idle_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<PgSession>>> idle_;
};

}  // namespace matih::plugins
