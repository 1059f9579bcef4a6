#include "store/audit_search.h"

#include <algorithm>

namespace matih::runner {
namespace {

// The WHERE clause for `f`; parameters are numbered $1..$6 in a fixed order, NULL when unused,
// so one prepared shape serves every combination.
constexpr const char* kWhere =
    " FROM matih.audit_events a JOIN matih.tenants t ON t.id = a.tenant_id "
    "WHERE ($1::text IS NULL OR t.slug = $1) "
    "AND ($2::bigint IS NULL OR a.created_at > now() - $2 * interval '1 millisecond') "
    "AND ($3::int IS NULL OR a.step_number = $3) "
    "AND ($4::text IS NULL OR a.step_name = $4) "
    "AND ($5::text IS NULL OR a.event = $5) "
    "AND ($6::text IS NULL OR a.event LIKE $6 ESCAPE '\\') ";

// "step.*" -> LIKE 'step.%' with the pattern's own % and _ escaped.
std::string LikePrefix(const std::string& prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

}  // namespace

Result<AuditSearchResult> AuditSearch::Find(const Database& db, const AuditFilter& f) {
  if (f.limit < 1) return InvalidArgument("the history limit must be at least 1");
  std::optional<std::string> exact, like;
  if (f.event) {
    if (!f.event->empty() && f.event->back() == '*')
      like = LikePrefix(f.event->substr(0, f.event->size() - 1));
    else
      exact = *f.event;
  }
  std::optional<long long> since_ms;
  if (f.since) since_ms = static_cast<long long>(f.since->count());

  auto conn = db.Connect();
  if (!conn.ok()) return conn.status();
  AuditSearchResult result;
  Status s = Guard("read the fleet's audit trail", [&]() -> Status {
    pqxx::work tx(**conn);
    tx.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    if (f.slug && tx.exec_params("SELECT 1 FROM matih.tenants WHERE slug = $1", *f.slug).empty())
      return NotFound("no tenant '" + *f.slug + "'");
    auto rows = tx.exec_params(
        std::string("SELECT t.slug, a.seq, a.created_at::text, a.run_id, a.runner, a.event, a.step_number, "
                    "a.step_name, a.plugin, a.plugin_version, a.details::text, a.hash") +
            kWhere + "ORDER BY a.created_at DESC, a.id DESC LIMIT $7",
        f.slug, since_ms, f.step_number, f.step_name, exact, like, f.limit);
    for (const auto& r : rows) {
      AuditSearchRow out;
      out.slug = r[0].as<std::string>();
      out.row.seq = r[1].as<int64_t>();
      out.row.created_at = r[2].as<std::string>();
      out.row.run_id = r[3].as<std::string>();
      out.row.runner = r[4].as<std::string>();
      out.row.event.event = r[5].as<std::string>();
      if (!r[6].is_null()) out.row.event.step_number = r[6].as<int>();
      out.row.event.step_name = r[7].as<std::string>();
      out.row.event.plugin = r[8].as<std::string>();
      out.row.event.plugin_version = r[9].as<std::string>();
      out.row.event.details = nlohmann::json::parse(r[10].as<std::string>());
      out.row.hash = r[11].as<std::string>();
      result.rows.push_back(std::move(out));
    }
    if (static_cast<int>(rows.size()) == f.limit) {
      auto total = tx.exec_params1(std::string("SELECT count(*)") + kWhere, f.slug, since_ms, f.step_number,
                                   f.step_name, exact, like);
      result.left_out = total[0].as<int64_t>() - f.limit;
    }
    tx.commit();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  std::reverse(result.rows.begin(), result.rows.end());
  return result;
}

}  // namespace matih::runner
