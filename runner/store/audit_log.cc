#include "store/audit_log.h"

#include <openssl/evp.h>

#include <cstdio>
#include <stdexcept>

namespace matih::runner {
namespace {

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

AuditRow RowFrom(const pqxx::row& r) {
  AuditRow row;
  row.seq = r["seq"].as<int64_t>();
  row.created_at = r["created_at"].as<std::string>();
  row.run_id = r["run_id"].as<std::string>();
  row.runner = r["runner"].as<std::string>();
  row.event.event = r["event"].as<std::string>();
  if (!r["step_number"].is_null()) row.event.step_number = r["step_number"].as<int>();
  row.event.step_name = r["step_name"].as<std::string>();
  row.event.plugin = r["plugin"].as<std::string>();
  row.event.plugin_version = r["plugin_version"].as<std::string>();
  row.event.details = nlohmann::json::parse(r["details"].as<std::string>());
  row.hash = r["hash"].as<std::string>();
  return row;
}

constexpr const char* kSelectColumns =
    "seq, created_at::text AS created_at, run_id, runner, event, step_number, step_name, plugin, "
    "plugin_version, details::text AS details, prev_hash, hash";

}  // namespace

std::string AuditLog::Canonical(int64_t seq, const std::string& tenant_id, const std::string& created_at,
                                const std::string& run_id, const std::string& runner, const AuditEvent& e) {
  nlohmann::json j =
      nlohmann::json::array({seq, tenant_id, created_at, run_id, runner, e.event,
                             e.step_number ? nlohmann::json(*e.step_number) : nlohmann::json(nullptr),
                             e.step_name, e.plugin, e.plugin_version, e.details});
  return j.dump();
}

std::string AuditLog::ChainHash(const std::string& prev_hash, const std::string& canonical) {
  return Sha256Hex(prev_hash + "\n" + canonical);
}

std::string AuditLog::Append(pqxx::work& tx, const std::string& tenant_id, const std::string& run_id,
                             const std::string& runner, const std::vector<AuditEvent>& events) {
  if (events.empty()) return "";
  pqxx::connection_base& conn = tx.conn();
  Prepare(conn, "matih_audit_head",
          "SELECT audit_seq, audit_head, now()::text FROM matih.tenants WHERE id = $1 FOR UPDATE");
  // Every event and the new head in one statement (one round trip however many events).
  Prepare(conn, "matih_audit_append",
          "WITH added AS (INSERT INTO matih.audit_events (tenant_id, seq, created_at, run_id, runner, event, "
          "  step_number, step_name, plugin, plugin_version, details, prev_hash, hash) "
          "  SELECT $1::uuid, r.seq, $2::timestamptz, $3, $4, r.event, r.step_number, r.step_name, r.plugin, "
          "    r.plugin_version, COALESCE(r.details, 'null'::jsonb), r.prev_hash, r.hash "
          "  FROM jsonb_to_recordset($5::jsonb) AS r(seq bigint, event text, step_number integer, "
          "    step_name text, plugin text, plugin_version text, details jsonb, prev_hash text, hash text)) "
          "UPDATE matih.tenants SET audit_seq = $6, audit_head = $7 WHERE id = $1");
  auto head_rows = tx.exec_prepared("matih_audit_head", tenant_id);
  if (head_rows.size() != 1) throw std::runtime_error("audit: no tenant " + tenant_id);
  const pqxx::row head = head_rows[0];
  int64_t seq = head[0].as<int64_t>();
  std::string prev = head[1].as<std::string>();
  const std::string now = head[2].as<std::string>();
  nlohmann::json rows = nlohmann::json::array();
  ChainRows(tenant_id, now, run_id, runner, events, false, seq, prev, rows);
  tx.exec_prepared("matih_audit_append", tenant_id, now, run_id, runner, rows.dump(), seq, prev);
  return prev;
}

void AuditLog::ChainRows(const std::string& tenant_id, const std::string& now, const std::string& run_id,
                         const std::string& runner, const std::vector<AuditEvent>& events, bool with_tenant,
                         int64_t& seq, std::string& prev, nlohmann::json& rows) {
  for (const AuditEvent& e : events) {
    ++seq;
    std::string hash = ChainHash(prev, Canonical(seq, tenant_id, now, run_id, runner, e));
    nlohmann::json row = {
        {"seq", seq},
        {"event", e.event},
        {"step_number", e.step_number ? nlohmann::json(*e.step_number) : nlohmann::json(nullptr)},
        {"step_name", e.step_name},
        {"plugin", e.plugin},
        {"plugin_version", e.plugin_version},
        {"details", e.details},
        {"prev_hash", prev},
        {"hash", hash}};
    if (with_tenant) row["tenant_id"] = tenant_id;
    rows.push_back(std::move(row));
    prev = std::move(hash);
  }
}

Result<std::vector<AuditRow>> AuditLog::History(const Database& db, const std::string& tenant_id) {
  auto conn = db.Connect();
  if (!conn.ok()) return conn.status();
  std::vector<AuditRow> rows;
  Status s = Guard("read audit history", [&] {
    pqxx::nontransaction tx(**conn);
    for (const auto& r : tx.exec_params(std::string("SELECT ") + kSelectColumns +
                                            " FROM matih.audit_events WHERE tenant_id = $1 ORDER BY seq",
                                        tenant_id))
      rows.push_back(RowFrom(r));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return rows;
}

Result<std::vector<AuditProblem>> AuditLog::Verify(const Database& db,
                                                   const std::optional<std::string>& slug) {
  auto conn = db.Connect();
  if (!conn.ok()) return conn.status();
  std::vector<AuditProblem> problems;
  Status s = Guard("verify audit trail", [&] {
    // One snapshot for every chain and every statement (READ COMMITTED would take a new one per
    // statement): a run appending meanwhile is seen entirely or not at all, so verify can run
    // beside a run and never reports a head ahead of its rows.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(**conn);
    auto tenants =
        slug ? tx.exec_params(
                   "SELECT id::text, slug, audit_seq, audit_head FROM matih.tenants WHERE slug = $1", *slug)
             : tx.exec("SELECT id::text, slug, audit_seq, audit_head FROM matih.tenants ORDER BY slug");
    if (slug && tenants.empty()) return NotFound("no tenant '" + *slug + "'");
    for (const auto& t : tenants) {
      const std::string id = t[0].as<std::string>();
      const std::string name = t[1].as<std::string>();
      const int64_t head_seq = t[2].as<int64_t>();
      const std::string head_hash = t[3].as<std::string>();
      std::string prev;
      int64_t expected = 1;
      std::optional<AuditProblem> problem;
      for (const auto& r : tx.exec_params(std::string("SELECT ") + kSelectColumns +
                                              " FROM matih.audit_events WHERE tenant_id = $1 ORDER BY seq",
                                          id)) {
        AuditRow row = RowFrom(r);
        if (row.seq != expected) {
          problem = AuditProblem{name, expected,
                                 "event " + std::to_string(expected) + " is missing (the chain jumps to " +
                                     std::to_string(row.seq) + ")"};
          break;
        }
        if (r["prev_hash"].as<std::string>() != prev) {
          problem = AuditProblem{name, row.seq,
                                 "event " + std::to_string(row.seq) + " (" + row.event.event +
                                     ") does not link to the event before it"};
          break;
        }
        std::string want =
            ChainHash(prev, Canonical(row.seq, id, row.created_at, row.run_id, row.runner, row.event));
        if (want != row.hash) {
          problem = AuditProblem{name, row.seq,
                                 "event " + std::to_string(row.seq) + " (" + row.event.event +
                                     ") was changed after it was written (hash mismatch)"};
          break;
        }
        prev = row.hash;
        ++expected;
      }
      if (!problem && expected - 1 != head_seq) {
        problem = AuditProblem{name, expected,
                               "events " + std::to_string(expected) + ".." + std::to_string(head_seq) +
                                   " are missing (the chain ends early)"};
      } else if (!problem && prev != head_hash) {
        problem =
            AuditProblem{name, head_seq, "the newest event does not match the tenant's recorded chain head"};
      }
      if (problem) problems.push_back(*problem);
    }
    tx.commit();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return problems;
}

}  // namespace matih::runner
