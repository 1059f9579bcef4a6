#include "data/pg_pool.h"

#include <libpq-fe.h>

#include "common/pg_session.h"
#include "data/tier_servers.h"

namespace matih::plugins::data {
namespace {

std::string QuoteConninfoValue(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

// libpq refuses a login with these words in its message; nothing else tells them apart from an
// unreachable server in libpqxx 6 (broken_connection carries no SQLSTATE).
bool IsLoginRefused(const std::string& message) {
  for (const char* words : {"authentication failed", "does not exist", "permission denied",
                            "no pg_hba.conf entry", "password is required"})
    if (message.find(words) != std::string::npos) return true;
  return false;
}

}  // namespace

PgServer::PgServer(const std::string& url, const std::string& setting_key) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (!options) {
    std::string reason = error ? error : "out of memory";
    PQfreemem(error);
    while (!reason.empty() && reason.back() == '\n') reason.pop_back();
    throw InvalidArgument("setting targets." + setting_key + " is not a PostgreSQL URL: " + reason);
  }
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    const std::string key = o->keyword, value = o->val;
    if (key == "dbname")
      dbname_ = value;
    else
      options_.emplace_back(key, value);
    if (key == "host" || key == "hostaddr") host_ = value;
    if (key == "port") port_ = value;
  }
  PQconninfoFree(options);
  if (host_.empty()) host_ = "localhost";
  if (port_.empty()) port_ = "5432";
  label_ = "PostgreSQL " + host_ + ":" + port_;
}

std::string PgServer::Conninfo(const std::string& dbname) const {
  std::string out;
  bool has_timeout = false, has_name = false;
  for (const auto& [key, value] : options_) {
    out += key + "=" + QuoteConninfoValue(value) + " ";
    has_timeout = has_timeout || key == "connect_timeout";
    has_name = has_name || key == "application_name";
  }
  if (!has_timeout) out += "connect_timeout=5 ";
  if (!has_name) out += "application_name=matih-data ";
  const std::string& db = dbname.empty() ? dbname_ : dbname;
  if (!db.empty()) out += "dbname=" + QuoteConninfoValue(db);
  return out;
}

PgPool::Lease::Lease(PgPool* pool, std::string key, std::unique_ptr<pqxx::connection> connection)
    : pool_(pool),
      key_(std::move(key)),
      connection_(std::move(connection)),
      uncaught_(std::uncaught_exceptions()) {}

PgPool::Lease::~Lease() {
  if (!connection_) return;                            // moved from
  if (std::uncaught_exceptions() > uncaught_) return;  // state unknown: close it
  pool_->Release(std::move(key_), std::move(connection_));
}

std::unique_ptr<pqxx::connection> PgPool::TakeIdle(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = idle_.begin(); it != idle_.end(); ++it) {
    if (it->first != key) continue;
    auto connection = std::move(it->second);
    idle_.erase(it);
    return connection;
  }
  return nullptr;
}

void PgPool::Release(std::string key, std::unique_ptr<pqxx::connection> connection) {
  if (!connection->is_open()) return;
  std::unique_ptr<pqxx::connection> evicted;  // closed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  idle_.emplace_front(std::move(key), std::move(connection));
  if (idle_.size() > max_idle_) {
    evicted = std::move(idle_.back().second);
    idle_.pop_back();
  }
}

PgPool::Lease PgPool::Acquire(const Context& ctx, const PgServer& server, const std::string& dbname) {
  const std::string key = server.Conninfo(dbname);
  while (auto idle = TakeIdle(key)) {
    try {
      pqxx::nontransaction(*idle).exec("SELECT 1");
      return Lease(this, key, std::move(idle));
    } catch (const std::exception&) {
      // A dead session (server restarted, database dropped): try the next one, or connect.
    }
  }
  try {
    return Lease(this, key, std::make_unique<pqxx::connection>(key));
  } catch (const pqxx::broken_connection& e) {
    const std::string reason = e.what();
    const std::string where = dbname.empty() ? "" : " (database " + dbname + ")";
    if (IsLoginRefused(reason))
      throw PermanentError(Describe(ctx, server.label(), "login refused" + where + ": " + reason),
                           MATIH_STATUS_PERMISSION_DENIED);
    throw TransientError(Describe(ctx, server.label(), "unreachable" + where + ": " + reason));
  } catch (...) {
    RethrowPgError(ctx, server, "connect");
  }
}

void RethrowPgError(const Context& ctx, const PgServer& server, const std::string& what) {
  try {
    throw;
  } catch (const Error&) {
    throw;  // ours, already described
  } catch (...) {
  }
  try {
    RethrowAsStepError(what);
  } catch (const Error& e) {
    throw Error(e.code(), Describe(ctx, server.label(), e.what()));
  }
}

PgPool& SharedPgPool() {
  static PgPool pool;
  return pool;
}

}  // namespace matih::plugins::data
