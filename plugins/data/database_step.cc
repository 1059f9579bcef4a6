#include "data/database_step.h"

#include <optional>

#include "common/secure_token.h"
#include "common/sql_state.h"
#include "data/pg_pool.h"
#include "data/scram_verifier.h"
#include "data/step_params.h"
#include "data/tenant_names.h"
#include "data/tier_servers.h"

namespace matih::plugins::data {
namespace {

struct RoleState {
  bool exists = false;
  bool login = false, superuser = false, createdb = false, createrole = false, replication = false,
       bypassrls = false;
  int connection_limit = -1;
  std::optional<std::string> verifier;
};

struct DatabaseState {
  bool exists = false;
  std::string owner;
  bool public_may_connect = false;
};

struct State {
  RoleState role;
  DatabaseState database;
};

void CheckParams(std::string_view text) {
  const auto params = ParamsObject(text);
  RefuseUnknownKeys(params, {"connection_limit"}, "");
  if (!params.contains("connection_limit")) return;
  const auto& limits = params["connection_limit"];
  if (!limits.is_object()) throw InvalidArgument("param connection_limit must map tiers to numbers");
  RefuseUnknownKeys(limits, {"free", "starter", "professional", "enterprise"}, "connection_limit.");
  for (const auto& item : limits.items())
    IntegerIn(limits, item.key().c_str(), -1, 10000, "connection_limit.");
}

int WantedConnectionLimit(const Context& ctx) {
  const std::string text = ctx.params_json();
  CheckParams(text);
  const auto params = ParamsObject(text);
  const std::string tier = ctx.tier();
  if (params.contains("connection_limit") && params["connection_limit"].contains(tier))
    return params["connection_limit"][tier].get<int>();
  return -1;
}

PgServer ServerOf(const Context& ctx) {
  return PgServer(RequiredServerSetting(ctx, "database_url"), ServerSettingKey(ctx, "database_url"));
}

State Read(pqxx::connection& connection, const std::string& name) {
  pqxx::nontransaction tx(connection);
  State state;
  auto role = tx.exec_params(
      "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolconnlimit, "
      "rolpassword FROM pg_authid WHERE rolname = $1",
      name);
  if (!role.empty()) {
    const auto& r = role[0];
    state.role.exists = true;
    state.role.login = r[0].as<bool>();
    state.role.superuser = r[1].as<bool>();
    state.role.createdb = r[2].as<bool>();
    state.role.createrole = r[3].as<bool>();
    state.role.replication = r[4].as<bool>();
    state.role.bypassrls = r[5].as<bool>();
    state.role.connection_limit = r[6].as<int>();
    if (!r[7].is_null()) state.role.verifier = r[7].as<std::string>();
  }
  auto db = tx.exec_params(
      "SELECT pg_get_userbyid(datdba), EXISTS (SELECT 1 FROM aclexplode(coalesce(datacl, acldefault('d', "
      "datdba))) a "
      "WHERE a.grantee = 0 AND a.privilege_type IN ('CONNECT', 'TEMPORARY')) FROM pg_database WHERE datname "
      "= $1",
      name);
  if (!db.empty()) {
    state.database.exists = true;
    state.database.owner = db[0][0].as<std::string>();
    state.database.public_may_connect = db[0][1].as<bool>();
  }
  return state;
}

// The attributes that are not as wanted, in ALTER ROLE words ("SUPERUSER, NOLOGIN"), or "".
std::string WrongAttributes(const RoleState& role) {
  std::string out;
  auto add = [&out](bool wrong, const char* word) {
    if (wrong) out += (out.empty() ? "" : ", ") + std::string(word);
  };
  add(!role.login, "NOLOGIN");
  add(role.superuser, "SUPERUSER");
  add(role.createdb, "CREATEDB");
  add(role.createrole, "CREATEROLE");
  add(role.replication, "REPLICATION");
  add(role.bypassrls, "BYPASSRLS");
  return out;
}

bool PasswordMatches(const RoleState& role, const std::optional<std::string>& password) {
  return password && role.verifier && ScramVerifierMatches(*role.verifier, *password);
}

void AddNote(std::string& diff, const std::string& note) { diff += (diff.empty() ? "" : "; ") + note; }

std::string Difference(const State& state, const std::string& name, int limit,
                       const std::optional<std::string>& password) {
  std::string diff;
  if (!state.role.exists) AddNote(diff, "role " + name + " missing");
  if (!state.database.exists) AddNote(diff, "database " + name + " missing");
  if (state.role.exists) {
    if (auto wrong = WrongAttributes(state.role); !wrong.empty())
      AddNote(diff, "role attributes: have " + wrong + ", want LOGIN only");
    if (state.role.connection_limit != limit)
      AddNote(diff, "connection limit: have " + std::to_string(state.role.connection_limit) + ", want " +
                        std::to_string(limit));
    if (!password)
      AddNote(diff, "password missing from the secret store");
    else if (!PasswordMatches(state.role, password))
      AddNote(diff, "role password does not match the secret store");
  }
  if (state.database.exists) {
    if (state.database.owner != name)
      AddNote(diff, "database owner: have '" + state.database.owner + "', want '" + name + "'");
    if (state.database.public_may_connect) AddNote(diff, "PUBLIC may connect to the database");
  }
  return diff;
}

// ALTER ROLE ... PASSWORD '<SCRAM verifier>'. A failure is reported without the statement.
void SetPassword(const Context& ctx, const PgServer& server, pqxx::nontransaction& tx,
                 const std::string& role, const std::string& password) {
  const std::string statement =
      "ALTER ROLE " + tx.quote_name(role) + " PASSWORD " + tx.quote(ScramSha256Verifier(password));
  try {
    tx.exec(statement);
  } catch (const pqxx::sql_error& e) {
    // Classified like every other server error (common/sql_state.h); the statement, which holds
    // the verifier, is never part of the message.
    throw Error(StatusForSqlState(e.sqlstate()),
                Describe(ctx, server.label(),
                         "setting the password of role " + role + " failed (SQLSTATE " + e.sqlstate() + ")"));
  } catch (const pqxx::broken_connection&) {
    throw TransientError(
        Describe(ctx, server.label(), "connection lost while setting the password of role " + role));
  }
}

}  // namespace

void DatabaseStep::validate_params(std::string_view params_json) { CheckParams(params_json); }

Observation DatabaseStep::observe(Context& ctx) {
  const std::string name = TenantSqlName(ctx.slug());
  const int limit = WantedConnectionLimit(ctx);
  const PgServer server = ServerOf(ctx);
  auto lease = SharedPgPool().Acquire(ctx, server);
  State state;
  try {
    state = Read(*lease, name);
  } catch (...) {
    RethrowPgError(ctx, server, "read role and database " + name);
  }
  if (!state.role.exists && !state.database.exists) return Observation::Absent();
  const std::string diff = Difference(state, name, limit, ctx.secret(kDatabasePasswordSecret));
  return diff.empty() ? Observation::InSync() : Observation::Drifted(diff);
}

void DatabaseStep::apply(Context& ctx) {
  const std::string name = TenantSqlName(ctx.slug());
  const int limit = WantedConnectionLimit(ctx);
  const PgServer server = ServerOf(ctx);
  auto lease = SharedPgPool().Acquire(ctx, server);
  try {
    const State state = Read(*lease, name);
    std::optional<std::string> password = ctx.secret(kDatabasePasswordSecret);
    if (!Difference(state, name, limit, password).empty()) {
      // CREATE DATABASE cannot run in a transaction block: every statement commits on its own, and
      // a failure half way leaves a state that the next observe reports and apply completes.
      pqxx::nontransaction tx(*lease);
      const std::string role = tx.quote_name(name);
      const std::string attributes =
          " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT " +
          std::to_string(limit);
      if (!state.role.exists)
        tx.exec("CREATE ROLE " + role + attributes);
      else if (!WrongAttributes(state.role).empty() || state.role.connection_limit != limit)
        tx.exec("ALTER ROLE " + role + attributes);
      if (!PasswordMatches(state.role, password)) {
        if (!password) {
          password = RandomBase62(32);
          ctx.put_secret(kDatabasePasswordSecret, *password);  // before the role gets it: never lost
        }
        SetPassword(ctx, server, tx, name, *password);
      }
      if (!state.database.exists)
        tx.exec("CREATE DATABASE " + role + " OWNER " + role + " TEMPLATE template0 ENCODING 'UTF8'");
      else if (state.database.owner != name)
        tx.exec("ALTER DATABASE " + role + " OWNER TO " + role);
      if (!state.database.exists || state.database.public_may_connect)
        tx.exec("REVOKE CONNECT, TEMPORARY ON DATABASE " + role + " FROM PUBLIC");
    }
  } catch (...) {
    RethrowPgError(ctx, server, "provision role and database " + name);
  }
  ctx.set_output("database", name);
  ctx.set_output("role", name);
  ctx.set_output("host", server.host());
  ctx.set_output("port", server.port());
  ctx.set_output("password_secret", std::string("matih-data/") + kDatabasePasswordSecret);
}

void DatabaseStep::remove(Context& ctx) {
  const std::string name = TenantSqlName(ctx.slug());
  const PgServer server = ServerOf(ctx);
  auto lease = SharedPgPool().Acquire(ctx, server);
  try {
    pqxx::nontransaction tx(*lease);
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name) + " WITH (FORCE)");
    tx.exec("DROP ROLE IF EXISTS " + tx.quote_name(name));
  } catch (...) {
    RethrowPgError(ctx, server, "drop database and role " + name);
  }
  ctx.delete_secret(kDatabasePasswordSecret);
}

}  // namespace matih::plugins::data
