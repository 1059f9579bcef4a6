// Planted SQL built from runtime values: sql_params_check.py must report every line marked
// PLANTED, and nothing else. Never compiled; tests/security/planted_test.py reads it.
#include <pqxx/pqxx>
#include <string>

namespace planted {

void Bad(pqxx::work& tx, const std::string& slug, const std::string& email, const std::string& table) {
  tx.exec("SELECT id FROM tenants WHERE slug = '" + slug + "'");  // PLANTED
  const std::string who = email;
  tx.exec("SELECT 1 FROM admins WHERE email = '" + who + "'");  // PLANTED
  std::string sql = "SELECT id FROM tenants";
  sql += " WHERE region = '" + email + "'";  // PLANTED
  tx.exec(sql);
  tx.exec(std::string("DROP TABLE ") + table);                    // PLANTED
  tx.exec(R"(DELETE FROM tenants WHERE slug = ')" + slug + "'");  // PLANTED
  const std::string stmt = "UPDATE tenants SET tier = 'gold' WHERE slug = " + tx.quote(slug);
  tx.exec(stmt + " AND email = " + email);  // PLANTED
}

}  // namespace planted
