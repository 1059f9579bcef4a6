#include "store/database.h"

#include "store/sql_state.h"

namespace matih::runner {

Result<std::unique_ptr<pqxx::connection>> Database::Connect() const {
  try {
    auto conn = std::make_unique<pqxx::connection>(url_);
    pqxx::nontransaction tx(*conn);
    // Timestamps are hashed into the audit chain as text: fix the session settings that shape
    // that text, whatever the server's or the environment's defaults (PGDATESTYLE, PGTZ).
    tx.exec(
        "SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; "
        "SET application_name = 'matih-provisioner'");
    return conn;
  } catch (const pqxx::broken_connection& e) {
    // libpq names host and port, never the password.
    std::string why = e.what();
    if (auto nl = why.find('\n'); nl != std::string::npos) why.resize(nl);
    return Unavailable("database unreachable: " + why);
  } catch (const std::exception&) {
    // The message of a failed connect may quote parts of the connection string: keep it out.
    return Unavailable("database connection failed");
  }
}

Status Database::InTransaction(pqxx::connection& conn, const std::function<Status(pqxx::work&)>& body) {
  return Guard("database", [&] {
    pqxx::work tx(conn);
    Status s = body(tx);
    if (!s.ok()) {
      tx.abort();
      return s;
    }
    tx.commit();
    return Status::Ok();
  });
}

void Prepare(pqxx::connection_base& conn, const std::string& name, const std::string& sql) {
  conn.prepare(name, sql);
}

Status StatusFromException(const std::exception& e, const std::string& context) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) || dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
    return Unavailable(context + ": database connection lost");
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string state = sql->sqlstate();
    std::string what = sql->what();
    if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
    if (const Code code = CodeForSqlState(state); code != Code::kInternal) {
      return Status(code, context + ": " + what);
    }
    return Internal(context + ": " + what + " (SQLSTATE " + state + ")");
  }
  return Internal(context + ": " + e.what());
}

Status Guard(const std::string& context, const std::function<Status()>& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return StatusFromException(e, context);
  }
}

}  // namespace matih::runner
