#include "data/search_indices_step.h"

#include <vector>

#include "data/pg_pool.h"
#include "data/step_params.h"
#include "data/tenant_names.h"
#include "data/tier_servers.h"

namespace matih::plugins::data {
namespace {

struct SearchParams {
  std::string schema = "search";
  std::string language = "english";
  std::vector<std::string> tables;
};

SearchParams ParseParams(std::string_view text) {
  const auto params = ParamsObject(text);
  RefuseUnknownKeys(params, {"schema", "language", "tables"}, "");
  SearchParams out;
  for (auto [key, field] : {std::pair{"schema", &out.schema}, std::pair{"language", &out.language}}) {
    if (!params.contains(key)) continue;
    if (!params[key].is_string() || !IsPlainIdentifier(params[key].get<std::string>()))
      throw InvalidArgument(std::string("param ") + key + " must be a plain lowercase identifier");
    *field = params[key].get<std::string>();
  }
  if (out.schema.rfind("pg_", 0) == 0 || out.schema == "public" || out.schema == "information_schema")
    throw InvalidArgument("param schema must not be a system or the public schema");
  if (!params.contains("tables") || !params["tables"].is_array() || params["tables"].empty())
    throw InvalidArgument("param tables (a list of table names) is required");
  for (const auto& table : params["tables"]) {
    if (!table.is_string() || !IsPlainIdentifier(table.get<std::string>()) ||
        table.get<std::string>().size() > 50)
      throw InvalidArgument(
          "param tables: each must be a plain lowercase identifier of at most 50 characters");
    for (const auto& seen : out.tables)
      if (seen == table.get<std::string>())
        throw InvalidArgument("param tables: " + seen + " is listed twice");
    out.tables.push_back(table.get<std::string>());
  }
  return out;
}

// What the server has for one table.
struct TableState {
  bool exists = false;
  std::string owner;
  std::vector<std::string> missing_columns;  // of id, title, body, metadata, updated_at
  bool tsv_ok = false;                       // generated, stored, from the configured language
  bool tsv_exists = false;
  bool gin_index = false;
};

struct SearchState {
  bool database_exists = false;
  bool schema_exists = false;
  std::string schema_owner;
  std::vector<TableState> tables;  // in params order
};

const char* const kColumns[][2] = {{"id", "text PRIMARY KEY"},
                                   {"title", "text NOT NULL DEFAULT ''"},
                                   {"body", "text NOT NULL DEFAULT ''"},
                                   {"metadata", "jsonb NOT NULL DEFAULT '{}'::jsonb"},
                                   {"updated_at", "timestamptz NOT NULL DEFAULT now()"}};

std::string TsvDefinition(pqxx::transaction_base& tx, const std::string& language) {
  const std::string config = tx.quote(language) + "::regconfig";
  return "tsvector GENERATED ALWAYS AS (setweight(to_tsvector(" + config +
         ", title), 'A') || setweight(to_tsvector(" + config + ", body), 'B')) STORED";
}

// Everything in one round trip (observe runs for every tenant on every drift pass): the schema's
// owner on every row (NULL rows when the schema is missing), then per wanted table in params
// order its owner, the wanted columns it lacks, and what its tsv column and index are.
SearchState ReadTables(pqxx::transaction_base& tx, const SearchParams& params) {
  SearchState state;
  state.database_exists = true;
  // Plain lowercase identifiers only (ParseParams), so a text[] literal needs no quoting.
  std::string tables = "{", columns = "{";
  for (const auto& name : params.tables) tables += (tables.size() > 1 ? "," : "") + name;
  for (const auto& column : kColumns) columns += (columns.size() > 1 ? "," : "") + std::string(column[0]);
  tables += "}";
  columns += "}";
  auto rows = tx.exec_params(
      "SELECT s.owner, c.oid IS NOT NULL, pg_get_userbyid(c.relowner), "
      "  ARRAY(SELECT w.col FROM unnest($3::text[]) WITH ORDINALITY AS w(col, ord) "
      "        WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid "
      "                          AND a.attname = w.col AND NOT a.attisdropped) ORDER BY w.ord), "
      "  v.present IS NOT NULL, v.ok, v.gin "
      "FROM (SELECT pg_get_userbyid(nspowner) AS owner, oid FROM pg_namespace WHERE nspname = $1) s "
      "CROSS JOIN unnest($2::text[]) WITH ORDINALITY AS t(name, ord) "
      "LEFT JOIN pg_class c ON c.relnamespace = s.oid AND c.relname = t.name AND c.relkind = 'r' "
      "LEFT JOIN LATERAL ("
      "  SELECT true AS present, "
      "    a.attgenerated = 's' AND format_type(a.atttypid, a.atttypmod) = 'tsvector' AND "
      "    pg_get_expr(d.adbin, d.adrelid) = format('(setweight(to_tsvector(%L::regconfig, title), "
      "''A''::\"char\") || "
      "setweight(to_tsvector(%L::regconfig, body), ''B''::\"char\"))', $4::text, $4::text) AS ok, "
      "    EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON "
      "      am.oid = ic.relam WHERE i.indrelid = a.attrelid AND am.amname = 'gin' AND i.indnatts = 1 AND "
      "      i.indkey[0] = a.attnum) AS gin "
      "  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
      "  WHERE a.attrelid = c.oid AND a.attname = 'tsv' AND NOT a.attisdropped) v ON true "
      "ORDER BY t.ord",
      params.schema, tables, columns, params.language);
  if (rows.empty()) return state;  // no such schema
  state.schema_exists = true;
  state.schema_owner = rows[0][0].as<std::string>();
  for (const auto& row : rows) {
    TableState table;
    table.exists = row[1].as<bool>();
    if (table.exists) {
      table.owner = row[2].as<std::string>();
      // A text[] of plain identifiers: "{a,b}".
      std::string missing = row[3].as<std::string>();
      missing = missing.substr(1, missing.size() - 2);
      for (size_t at = 0; !missing.empty();) {
        const size_t comma = missing.find(',', at);
        table.missing_columns.push_back(missing.substr(at, comma - at));
        if (comma == std::string::npos) break;
        at = comma + 1;
      }
      table.tsv_exists = row[4].as<bool>();
      if (table.tsv_exists) {
        table.tsv_ok = !row[5].is_null() && row[5].as<bool>();
        table.gin_index = row[6].as<bool>();
      }
    }
    state.tables.push_back(table);
  }
  return state;
}

void AddNote(std::string& diff, const std::string& note) { diff += (diff.empty() ? "" : "; ") + note; }

std::string Difference(const SearchState& state, const SearchParams& params, const std::string& role) {
  std::string diff;
  if (state.schema_owner != role)
    AddNote(diff, "schema owner: have '" + state.schema_owner + "', want '" + role + "'");
  for (size_t i = 0; i < params.tables.size(); ++i) {
    const auto& table = state.tables[i];
    const std::string name = params.schema + "." + params.tables[i];
    if (!table.exists) {
      AddNote(diff, "table " + name + " missing");
      continue;
    }
    if (table.owner != role) AddNote(diff, name + " owner: have '" + table.owner + "', want '" + role + "'");
    for (const auto& column : table.missing_columns) AddNote(diff, name + "." + column + " missing");
    if (!table.tsv_exists)
      AddNote(diff, name + ".tsv missing");
    else if (!table.tsv_ok)
      AddNote(diff, name + ".tsv is not the generated " + params.language + " tsvector");
    if (table.tsv_exists && !table.gin_index) AddNote(diff, name + ": GIN index on tsv missing");
  }
  return diff;
}

// Creates what is missing and repairs what differs, in `tx` (which holds the advisory lock).
void Converge(pqxx::work& tx, const SearchParams& params, const SearchState& state, const std::string& role) {
  const std::string schema = tx.quote_name(params.schema), owner = tx.quote_name(role);
  if (!state.schema_exists)
    tx.exec("CREATE SCHEMA " + schema + " AUTHORIZATION " + owner);
  else if (state.schema_owner != role)
    tx.exec("ALTER SCHEMA " + schema + " OWNER TO " + owner);
  for (size_t i = 0; i < params.tables.size(); ++i) {
    const TableState table = state.schema_exists ? state.tables[i] : TableState{};
    const std::string name = schema + "." + tx.quote_name(params.tables[i]);
    const std::string index = tx.quote_name(params.tables[i] + "_tsv_gin");
    if (!table.exists) {
      std::string columns;
      for (const auto& column : kColumns) columns += std::string(column[0]) + " " + column[1] + ", ";
      tx.exec("CREATE TABLE " + name + " (" + columns + "tsv " + TsvDefinition(tx, params.language) + ")");
      tx.exec("CREATE INDEX " + index + " ON " + name + " USING gin (tsv)");
      tx.exec("ALTER TABLE " + name + " OWNER TO " + owner);
      continue;
    }
    if (table.owner != role) tx.exec("ALTER TABLE " + name + " OWNER TO " + owner);
    bool rebuild_tsv = !table.tsv_ok;
    for (const auto& missing : table.missing_columns) {
      for (const auto& column : kColumns) {
        if (missing != column[0]) continue;
        // A lost id comes back without its key: the rows that exist have no id to give it.
        tx.exec("ALTER TABLE " + name + " ADD COLUMN " + tx.quote_name(missing) + " " +
                (missing == "id" ? std::string("text") : std::string(column[1])));
        rebuild_tsv = true;
      }
    }
    if (rebuild_tsv) {
      tx.exec("ALTER TABLE " + name + " DROP COLUMN IF EXISTS tsv");  // drops its index too
      tx.exec("ALTER TABLE " + name + " ADD COLUMN tsv " + TsvDefinition(tx, params.language));
    }
    if (rebuild_tsv || !table.gin_index) {
      tx.exec("DROP INDEX IF EXISTS " + schema + "." + index);  // a hand-made one of that name
      tx.exec("CREATE INDEX " + index + " ON " + name + " USING gin (tsv)");
    }
  }
}

PgServer ServerOf(const Context& ctx) {
  return PgServer(RequiredServerSetting(ctx, "database_url"), ServerSettingKey(ctx, "database_url"));
}

bool DatabaseExists(const Context& ctx, const PgServer& server, const std::string& database) {
  auto lease = SharedPgPool().Acquire(ctx, server);
  try {
    pqxx::nontransaction tx(*lease);
    return !tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", database).empty();
  } catch (...) {
    RethrowPgError(ctx, server, "look up database " + database);
  }
}

// The outputs of apply, and of an observe that finds the schema in sync.
void SetOutputs(Context& ctx, const SearchParams& params) {
  std::string tables;
  for (const auto& t : params.tables) tables += (tables.empty() ? "" : ",") + params.schema + "." + t;
  ctx.set_output("schema", params.schema);
  ctx.set_output("tables", tables);
}

}  // namespace

void SearchIndicesStep::validate_params(std::string_view params_json) { ParseParams(params_json); }

Observation SearchIndicesStep::observe(Context& ctx) {
  const SearchParams params = ParseParams(ctx.params_json());
  const std::string database = TenantSqlName(ctx.slug());
  const PgServer server = ServerOf(ctx);
  if (!DatabaseExists(ctx, server, database)) return Observation::Absent();
  auto lease = SharedPgPool().Acquire(ctx, server, database);
  SearchState state;
  try {
    pqxx::read_transaction tx(*lease);
    state = ReadTables(tx, params);
  } catch (...) {
    RethrowPgError(ctx, server, "read the search schema of database " + database);
  }
  if (!state.schema_exists) return Observation::Absent();
  const std::string diff = Difference(state, params, database);
  if (!diff.empty()) return Observation::Drifted(diff);
  // Adoptable (plugin.cc): what an apply made and never recorded is found here with its outputs.
  SetOutputs(ctx, params);
  return Observation::InSync();
}

void SearchIndicesStep::apply(Context& ctx) {
  const SearchParams params = ParseParams(ctx.params_json());
  const std::string database = TenantSqlName(ctx.slug()), role = database;
  const PgServer server = ServerOf(ctx);
  if (!DatabaseExists(ctx, server, database))
    throw PermanentError(Describe(
        ctx, server.label(),
        "the tenant's database " + database + " does not exist: step provision-database must run first"));
  auto lease = SharedPgPool().Acquire(ctx, server, database);
  try {
    pqxx::work tx(*lease);
    tx.exec_params("SELECT pg_advisory_xact_lock($1::int, hashtext($2))", kSearchLockClass, params.schema);
    const SearchState state = ReadTables(tx, params);  // read under the lock
    if (!state.schema_exists || !Difference(state, params, role).empty()) Converge(tx, params, state, role);
    tx.commit();
  } catch (...) {
    RethrowPgError(ctx, server, "create the search schema " + params.schema + " in database " + database);
  }
  SetOutputs(ctx, params);
}

void SearchIndicesStep::remove(Context& ctx) {
  const SearchParams params = ParseParams(ctx.params_json());
  const std::string database = TenantSqlName(ctx.slug());
  const PgServer server = ServerOf(ctx);
  if (!DatabaseExists(ctx, server, database)) return;  // dropped with the database
  auto lease = SharedPgPool().Acquire(ctx, server, database);
  try {
    pqxx::work tx(*lease);
    tx.exec_params("SELECT pg_advisory_xact_lock($1::int, hashtext($2))", kSearchLockClass, params.schema);
    tx.exec("DROP SCHEMA IF EXISTS " + tx.quote_name(params.schema) + " CASCADE");
    tx.commit();
  } catch (...) {
    RethrowPgError(ctx, server, "drop the search schema " + params.schema + " of database " + database);
  }
}

}  // namespace matih::plugins::data
