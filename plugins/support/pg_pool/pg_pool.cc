#include "pg_pool/pg_pool.h"

#include <exception>
#include <utility>

namespace matih::plugins {

PgPool::Lease::Lease(PgPool* pool, std::string url, std::unique_ptr<PgSession> session)
    : pool_(pool),
      url_(std::move(url)),
      session_(std::move(session)),
      exceptions_at_start_(std::uncaught_exceptions()) {}

PgPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_),
      url_(std::move(other.url_)),
      session_(std::move(other.session_)),
      exceptions_at_start_(other.exceptions_at_start_) {}

PgPool::Lease::~Lease() {
  if (!session_) return;
  // An exception on its way out may have left the connection broken or inside a transaction.
  if (std::uncaught_exceptions() > exceptions_at_start_) return;
  pool_->Return(url_, std::move(session_));
}

PgPool::Lease PgPool::Acquire(const std::string& url) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& idle = idle_[url];
    if (!idle.empty()) {
      auto session = std::move(idle.back());
      idle.pop_back();
      return Lease(this, url, std::move(session));
    }
  }
  return Lease(this, url, std::make_unique<PgSession>(url));
}

size_t PgPool::IdleCount(const std::string& url) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = idle_.find(url);
  return it == idle_.end() ? 0 : it->second.size();
}

void PgPool::Return(const std::string& url, std::unique_ptr<PgSession> session) {
  bool open = false;
  try {
    open = session->connection().is_open();
  } catch (...) {
  }
  if (!open) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto& idle = idle_[url];
  if (idle.size() < max_idle_) idle.push_back(std::move(session));
}

}  // namespace matih::plugins
