// Planted SQL that is safe: values as parameters, identifiers and literals quoted by pqxx,
// numbers, constants. sql_params_check.py must report nothing here.
#include <pqxx/pqxx>
#include <string>

namespace planted {
namespace {

constexpr const char* kColumns = "id, slug, tier";

std::string Select() { return std::string("SELECT ") + kColumns + " FROM tenants"; }

}  // namespace

void Good(pqxx::work& tx, const std::string& slug, const std::string& schema, int limit, bool lock) {
  tx.exec_params("SELECT id FROM tenants WHERE slug = $1", slug);
  tx.exec("CREATE SCHEMA IF NOT EXISTS " + tx.quote_name(schema));
  const std::string owner = tx.quote_name(slug + "_owner");
  tx.exec("ALTER SCHEMA " + tx.quote_name(schema) + " OWNER TO " + owner);
  tx.exec("SELECT id FROM tenants LIMIT " + std::to_string(limit) + (lock ? " FOR UPDATE" : ""));
  tx.exec(Select() + " WHERE slug = " + tx.quote(slug));
  std::string sql = "SELECT " + std::string(kColumns) + " FROM tenants";
  sql += " ORDER BY slug";
  tx.exec(sql);
}

}  // namespace planted
