#include "store/in_sync_batch.h"

#include <map>
#include <nlohmann/json.hpp>

namespace matih::runner {
namespace {

// The lease fence of every held tenant and its chain head, the rows locked in id order.
constexpr const char* kFence = "matih_in_sync_fence";
constexpr const char* kFenceSql =
    "SELECT t.id::text, t.audit_seq, t.audit_head, now()::text FROM matih.tenants t "
    "JOIN jsonb_to_recordset($1::jsonb) AS r(id uuid, owner text, epoch bigint) "
    "  ON t.id = r.id AND t.lease_owner = r.owner AND t.lease_epoch = r.epoch "
    "ORDER BY t.id FOR UPDATE OF t";
// Every event and every tenant row in one statement. The row update is what TenantSession
// writes for an in-sync pass (tenant_session.cc, kTenantSql with these values), plus the head.
constexpr const char* kWrite = "matih_in_sync_write";
constexpr const char* kWriteSql =
    "WITH added AS (INSERT INTO matih.audit_events (tenant_id, seq, created_at, run_id, runner, event, "
    "  step_number, step_name, plugin, plugin_version, details, prev_hash, hash) "
    "  SELECT r.tenant_id, r.seq, $1::timestamptz, $2, $3, r.event, r.step_number, r.step_name, r.plugin, "
    "    r.plugin_version, COALESCE(r.details, 'null'::jsonb), r.prev_hash, r.hash "
    "  FROM jsonb_to_recordset($4::jsonb) AS r(tenant_id uuid, seq bigint, event text, step_number integer, "
    "    step_name text, plugin text, plugin_version text, details jsonb, prev_hash text, hash text)) "
    "UPDATE matih.tenants t SET last_error = NULL, observed_generation = u.generation, "
    "  last_reconciled_at = now(), crashes = 0, lease_owner = NULL, lease_expires_at = NULL, "
    "  audit_seq = u.seq, audit_head = u.head "
    "FROM jsonb_to_recordset($5::jsonb) AS u(id uuid, generation bigint, seq bigint, head text) "
    "WHERE t.id = u.id";
constexpr const char* kHead = "matih_in_sync_head";
constexpr const char* kHeadSql = "SELECT audit_head FROM matih.tenants WHERE id = $1";

}  // namespace

void InSyncBatch::Add(InSyncWrite write, int tag) {
  if (!held_since_) held_since_ = std::chrono::steady_clock::now();
  held_.emplace_back(std::move(write), tag);
}

std::vector<InSyncBatch::Answer> InSyncBatch::Commit(DbLink& link) {
  std::vector<Answer> answers;
  if (held_.empty()) return answers;
  nlohmann::json fence = nlohmann::json::array();
  for (const auto& [w, tag] : held_)
    fence.push_back({{"id", w.lease.tenant_id}, {"owner", w.lease.owner}, {"epoch", w.lease.epoch}});
  const std::string fence_json = fence.dump();
  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < held_.size(); ++i) by_id[held_[i].first.lease.tenant_id] = i;

  // Set by an attempt that wrote: the tenants that passed the fence and one of their new heads. A
  // connection lost while the commit was in flight leaves its outcome unknown; the attempt that
  // follows finds that head in the row when the commit went through, and writes nothing twice.
  std::vector<bool> fenced;
  std::string probe_id, probe_head;
  auto commit = [&](pqxx::connection& conn) {
    return Database::InTransaction(conn, [&](pqxx::work& tx) -> Status {
      if (!probe_id.empty()) {
        Prepare(conn, kHead, kHeadSql);
        auto head = tx.exec_prepared(kHead, probe_id);
        if (!head.empty() && !head[0][0].is_null() && head[0][0].as<std::string>() == probe_head)
          return Status::Ok();
      }
      Prepare(conn, kFence, kFenceSql);
      Prepare(conn, kWrite, kWriteSql);
      fenced.assign(held_.size(), false);
      auto rows = tx.exec_prepared(kFence, fence_json);
      if (rows.empty()) return Status::Ok();  // every lease was lost: nothing to write
      nlohmann::json events = nlohmann::json::array();
      nlohmann::json tenants = nlohmann::json::array();
      std::string now, last_id, last_head;
      for (const auto& r : rows) {
        const std::string id = r[0].as<std::string>();
        auto at = by_id.find(id);
        if (at == by_id.end()) continue;
        fenced[at->second] = true;
        const InSyncWrite& w = held_[at->second].first;
        int64_t seq = r[1].as<int64_t>();
        std::string prev = r[2].as<std::string>();
        now = r[3].as<std::string>();
        AuditLog::ChainRows(id, now, run_id_, runner_, w.events, true, seq, prev, events);
        tenants.push_back({{"id", id}, {"generation", w.observed_generation}, {"seq", seq}, {"head", prev}});
        last_id = id;
        last_head = prev;
      }
      tx.exec_prepared(kWrite, now, run_id_, runner_, events.dump(), tenants.dump());
      probe_id = last_id;
      probe_head = last_head;
      return Status::Ok();
    });
  };
  Status s = link.Retry(commit);
  for (size_t i = 0; i < held_.size(); ++i) {
    Answer a{held_[i].second, s, std::move(held_[i].first)};
    if (s.ok() && !fenced[i])
      a.status = Status(Code::kAborted,
                        "lease lost: another runner or an operator took tenant " + a.write.lease.tenant_id,
                        Reason::kLeaseLost);
    answers.push_back(std::move(a));
  }
  held_.clear();
  held_since_.reset();
  return answers;
}

}  // namespace matih::runner
