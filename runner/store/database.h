// Database: where the runner's PostgreSQL is, and how its errors become Status values.
//
// libpqxx throws; nothing above the store sees a pqxx exception. Connection strings may hold a
// password, so no message built here ever contains the URL.
// Safe to call from any thread; each connection belongs to the thread that opened it.
#pragma once

#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "common/status.h"

namespace matih::runner {

class Database {
 public:
  explicit Database(std::string url) : url_(std::move(url)) {}

  // A new connection with the runner's session settings (UTC, application_name), or
  // Unavailable when the server cannot be reached.
  Result<std::unique_ptr<pqxx::connection>> Connect() const;

  // Runs `body` in one transaction on `conn` and commits; maps exceptions to a Status. A Status
  // that `body` returns as not OK rolls the transaction back.
  static Status InTransaction(pqxx::connection& conn, const std::function<Status(pqxx::work&)>& body);

 private:
  std::string url_;
};

// Defines `name` as a prepared statement of `conn` (libpqxx registers it with the server at its
// first exec_prepared, once per connection; a connection reopened prepares it again). Calling it
// again with the same SQL costs a lookup; another SQL under the same name throws.
void Prepare(pqxx::connection_base& conn, const std::string& name, const std::string& sql);

// Maps a libpqxx (or std) exception to a Status with the given context ("claim tenants: ...").
Status StatusFromException(const std::exception& e, const std::string& context);
// Calls `f`, returning its Status, or the mapped Status of anything it throws.
Status Guard(const std::string& context, const std::function<Status()>& f);

}  // namespace matih::runner
