#include "store/tenant_store.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>

#include "common/message_text.h"

namespace matih::runner {
namespace {

std::string Text(const pqxx::field& f) { return f.is_null() ? std::string() : f.as<std::string>(); }

}  // namespace

const char* TenantStore::Columns() {
  return "id::text AS id, slug, tier, region, admin_email, status, spec::text AS spec, generation, "
         "observed_generation, attempts, next_attempt_at::text AS next_attempt_at, last_error, lease_owner, "
         "lease_epoch, lease_expires_at::text AS lease_expires_at, last_reconciled_at::text AS "
         "last_reconciled_at, "
         "deletion_due_at::text AS deletion_due_at, resume_from_step, created_at::text AS created_at, "
         "updated_at::text AS updated_at, crashes, status_before_deletion, failed_from, "
         "(EXTRACT(EPOCH FROM (now() - first_claimed_at)) * 1000)::bigint AS first_claim_age_ms";
}

TenantRecord TenantStore::FromRow(const pqxx::row& r) {
  TenantRecord t;
  t.id = r["id"].as<std::string>();
  t.slug = r["slug"].as<std::string>();
  t.tier = r["tier"].as<std::string>();
  t.region = r["region"].as<std::string>();
  t.admin_email = r["admin_email"].as<std::string>();
  t.status = ParseTenantStatus(r["status"].as<std::string>()).value_or(TenantStatus::kPending);
  t.spec_json = r["spec"].as<std::string>();
  t.generation = r["generation"].as<int64_t>();
  t.observed_generation = r["observed_generation"].as<int64_t>();
  t.attempts = r["attempts"].as<int>();
  t.next_attempt_at = Text(r["next_attempt_at"]);
  t.last_error = Text(r["last_error"]);
  t.lease_owner = Text(r["lease_owner"]);
  t.lease_epoch = r["lease_epoch"].as<int64_t>();
  t.lease_expires_at = Text(r["lease_expires_at"]);
  t.last_reconciled_at = Text(r["last_reconciled_at"]);
  t.deletion_due_at = Text(r["deletion_due_at"]);
  if (!r["resume_from_step"].is_null()) t.resume_from_step = r["resume_from_step"].as<int>();
  t.created_at = Text(r["created_at"]);
  t.updated_at = Text(r["updated_at"]);
  t.crashes = r["crashes"].as<int>();
  t.status_before_deletion = Text(r["status_before_deletion"]);
  t.failed_from = Text(r["failed_from"]);
  if (!r["first_claim_age_ms"].is_null()) t.first_claim_age_ms = r["first_claim_age_ms"].as<int64_t>();
  return t;
}

Result<TenantRecord> TenantStore::Add(const NewTenant& n, const std::string& actor) {
  auto conn = db_.Connect();
  if (!conn.ok()) return conn.status();
  TenantRecord added;
  Status s = Database::InTransaction(**conn, [&](pqxx::work& tx) {
    auto ids = Insert(tx, {n}, actor);
    if (!ids.ok()) return ids.status();
    auto rows =
        tx.exec_params(std::string("SELECT ") + Columns() + " FROM matih.tenants WHERE id = $1", ids->at(0));
    added = FromRow(rows.at(0));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return added;
}

Result<std::vector<std::string>> TenantStore::Existing(const std::vector<std::string>& slugs) const {
  auto conn = db_.Connect();
  if (!conn.ok()) return conn.status();
  std::vector<std::string> found;
  Status s = Guard("read tenants", [&] {
    pqxx::nontransaction tx(**conn);
    for (const auto& r : tx.exec_params(
             "SELECT slug FROM matih.tenants WHERE slug IN (SELECT jsonb_array_elements_text($1::jsonb)) "
             "ORDER BY slug",
             nlohmann::json(slugs).dump()))
      found.push_back(r[0].as<std::string>());
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return found;
}

// The rows travel as one JSON document per table (jsonb_to_recordset), so 10,000 tenants are a
// handful of statements, every value still a parameter. The ids and one clock reading come first
// (now() is the transaction's start, as AuditLog::Append reads it), so the first audit event of
// each tenant is hashed here and each tenant row is written once, its chain head included. No step
// rows: a missing row is a PENDING step, made by the session flush of the run that first works it.
Result<std::vector<std::string>> TenantStore::Insert(pqxx::work& tx, const std::vector<NewTenant>& tenants,
                                                     const std::string& actor) {
  auto head = tx.exec_params1(
      "SELECT now()::text, coalesce(string_agg(gen_random_uuid()::text, ','), '') "
      "FROM generate_series(1, $1)",
      static_cast<int64_t>(tenants.size()));
  const std::string now = head[0].as<std::string>(), id_list = head[1].as<std::string>();
  std::vector<std::string> ids;
  for (size_t from = 0; from < id_list.size();) {
    size_t comma = id_list.find(',', from);
    if (comma == std::string::npos) comma = id_list.size();
    ids.push_back(id_list.substr(from, comma - from));
    from = comma + 1;
  }
  if (ids.size() != tenants.size())
    return Internal("tenant ids: asked for " + std::to_string(tenants.size()) + ", got " +
                    std::to_string(ids.size()));
  nlohmann::json rows = nlohmann::json::array(), events = nlohmann::json::array();
  constexpr int64_t kSeq = 1;  // a new tenant's chain starts at 1 from the empty head
  const std::string event = "operator.add";
  for (size_t i = 0; i < tenants.size(); ++i) {
    const NewTenant& n = tenants[i];
    AuditEvent e;
    e.event = event;
    e.details = {{"actor", actor}, {"tier", n.tier}, {"region", n.region}};
    const std::string hash = AuditLog::ChainHash("", AuditLog::Canonical(kSeq, ids[i], now, "", actor, e));
    rows.push_back({{"id", ids[i]},
                    {"slug", n.slug},
                    {"tier", n.tier},
                    {"region", n.region},
                    {"admin_email", n.admin_email},
                    {"spec", nlohmann::json::parse(n.spec_json)},
                    {"head", hash}});
    events.push_back({{"tenant_id", ids[i]}, {"details", e.details}, {"hash", hash}});
  }
  auto inserted = tx.exec_params(
      "INSERT INTO matih.tenants (id, slug, tier, region, admin_email, spec, audit_seq, audit_head) "
      "SELECT id, slug, tier, region, admin_email, spec, $2, head FROM jsonb_to_recordset($1::jsonb) "
      "  AS x(id uuid, slug text, tier text, region text, admin_email text, spec jsonb, head text) "
      "ON CONFLICT (slug) DO NOTHING RETURNING slug",
      rows.dump(), kSeq);
  if (inserted.size() != tenants.size()) {
    if (tenants.size() == 1) return InvalidArgument("tenant '" + tenants[0].slug + "' already exists");
    std::set<std::string> fresh;
    for (const auto& r : inserted) fresh.insert(r[0].as<std::string>());
    std::string taken;
    for (const auto& n : tenants)
      if (!fresh.count(n.slug)) taken += (taken.empty() ? "" : ", ") + n.slug;
    return InvalidArgument("these tenants exist already (added meanwhile?): " + taken + "; nothing imported");
  }
  tx.exec_params(
      "INSERT INTO matih.audit_events (tenant_id, seq, created_at, run_id, runner, event, details, "
      "prev_hash, hash) "
      "SELECT e.tenant_id, $2, $3::timestamptz, '', $4, $5, e.details, '', e.hash "
      "FROM jsonb_to_recordset($1::jsonb) AS e(tenant_id uuid, details jsonb, hash text)",
      events.dump(), kSeq, now, actor, event);
  return ids;
}

Result<size_t> TenantStore::AddMany(const std::vector<NewTenant>& tenants, const std::string& actor) {
  if (tenants.empty()) return size_t{0};
  auto conn = db_.Connect();
  if (!conn.ok()) return conn.status();
  size_t added = 0;
  Status s = Database::InTransaction(**conn, [&](pqxx::work& tx) {
    auto ids = Insert(tx, tenants, actor);
    if (!ids.ok()) return ids.status();
    added = ids->size();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return added;
}

// Slugs are short printable ASCII: anything else names no tenant, and is shown escaped (a hostile
// argument neither reaches the database as invalid UTF-8 nor rewrites the operator's terminal).
static std::optional<Status> NoSuchSlug(const std::string& slug) {
  if (slug.size() <= 63 &&
      std::none_of(slug.begin(), slug.end(), [](char c) { return c < 0x21 || c > 0x7e; }))
    return std::nullopt;
  return NotFound("no tenant '" + ShownInMessage(slug) + "'");
}

Result<TenantRecord> TenantStore::Get(const std::string& slug) const {
  if (auto bad = NoSuchSlug(slug)) return *bad;
  auto conn = db_.Connect();
  if (!conn.ok()) return conn.status();
  TenantRecord t;
  Status s = Guard("read tenant", [&] {
    pqxx::nontransaction tx(**conn);
    auto rows =
        tx.exec_params(std::string("SELECT ") + Columns() + " FROM matih.tenants WHERE slug = $1", slug);
    if (rows.empty()) return NotFound("no tenant '" + slug + "'");
    t = FromRow(rows[0]);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return t;
}

Result<std::vector<TenantRecord>> TenantStore::List(std::optional<TenantStatus> status,
                                                    const std::string& after, size_t limit) const {
  auto conn = db_.Connect();
  if (!conn.ok()) return conn.status();
  std::vector<TenantRecord> out;
  Status s = Guard("list tenants", [&] {
    pqxx::nontransaction tx(**conn);
    // NULL parameters switch a condition off, so one statement serves every combination.
    std::optional<std::string> status_text;
    if (status) status_text = ToString(*status);
    std::optional<int64_t> max_rows;
    if (limit > 0) max_rows = static_cast<int64_t>(limit);
    auto rows =
        tx.exec_params(std::string("SELECT ") + Columns() +
                           " FROM matih.tenants WHERE ($1::text IS NULL OR status = $1) AND slug > $2 "
                           "ORDER BY slug LIMIT $3",
                       status_text, after, max_rows);
    for (const auto& r : rows) out.push_back(FromRow(r));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::map<std::string, int>> TenantStore::CountByStatus() const {
  auto conn = db_.Connect();
  if (!conn.ok()) return conn.status();
  std::map<std::string, int> counts;
  for (TenantStatus st : AllTenantStatuses()) counts[ToString(st)] = 0;
  Status s = Guard("count tenants", [&] {
    pqxx::nontransaction tx(**conn);
    for (const auto& r : tx.exec("SELECT status, count(*) FROM matih.tenants GROUP BY status"))
      counts[r[0].as<std::string>()] = r[1].as<int>();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return counts;
}

namespace {

// What the engine reads of a step row; kStepColumns adds the times people read.
constexpr const char* kEngineStepColumns =
    "step_number, step_name, phase, status, attempts, outputs::text, last_error, diff";
constexpr const char* kStepColumns =
    "step_number, step_name, phase, status, attempts, outputs::text, last_error, diff, started_at::text, "
    "finished_at::text";

// Reads a JSON object whose values are all strings (the usual step outputs) straight into `out`,
// without building a document; gives up (false) on anything else, and the caller then parses
// the general way. Duplicate keys: the last wins, as in a parsed document.
class FlatStringObject {
 public:
  explicit FlatStringObject(StepOutputs& out) : out_(out) {}
  bool null() { return false; }
  bool boolean(bool) { return false; }
  bool number_integer(nlohmann::json::number_integer_t) { return false; }
  bool number_unsigned(nlohmann::json::number_unsigned_t) { return false; }
  bool number_float(nlohmann::json::number_float_t, const std::string&) { return false; }
  bool binary(nlohmann::json::binary_t&) { return false; }
  bool start_array(std::size_t) { return false; }
  bool end_array() { return false; }
  bool start_object(std::size_t) { return ++depth_ == 1; }
  bool end_object() { return --depth_ == 0; }
  bool key(std::string& k) {
    key_ = std::move(k);
    return true;
  }
  bool string(std::string& v) {
    if (depth_ != 1) return false;
    out_[std::move(key_)] = std::move(v);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception&) { return false; }

 private:
  StepOutputs& out_;
  int depth_ = 0;
  std::string key_;
};

// A step row of kStepColumns (of kEngineStepColumns without `times`), from column `at` on.
StepRecord StepFromRow(const pqxx::row& r, int at, bool times = true) {
  StepRecord rec;
  rec.number = r[at].as<int>();
  rec.name = r[at + 1].as<std::string>();
  rec.phase = r[at + 2].as<int>();
  rec.status = ParseStepStatus(r[at + 3].as<std::string>());
  rec.attempts = r[at + 4].as<int>();
  const std::string_view text(r[at + 5].c_str(), r[at + 5].size());
  FlatStringObject flat(rec.outputs);
  if (!nlohmann::json::sax_parse(text, &flat)) {
    rec.outputs.clear();
    const nlohmann::json outputs = nlohmann::json::parse(text);
    for (const auto& [k, v] : outputs.items())
      rec.outputs[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  rec.last_error = Text(r[at + 6]);
  rec.diff = Text(r[at + 7]);
  if (times) {
    rec.started_at = Text(r[at + 8]);
    rec.finished_at = Text(r[at + 9]);
  }
  return rec;
}

}  // namespace

std::vector<StepRecord> TenantStore::ReadSteps(pqxx::transaction_base& tx, const std::string& tenant_id) {
  Prepare(tx.conn(), "matih_read_steps",
          std::string("SELECT ") + kStepColumns +
              " FROM matih.tenant_steps WHERE tenant_id = $1 ORDER BY step_number");
  std::vector<StepRecord> out;
  for (const auto& r : tx.exec_prepared("matih_read_steps", tenant_id)) out.push_back(StepFromRow(r, 0));
  return out;
}

std::map<std::string, std::map<int, StepRecord>> TenantStore::ReadStepsOf(
    pqxx::transaction_base& tx, const std::vector<std::string>& ids) {
  std::map<std::string, std::map<int, StepRecord>> out;
  if (ids.empty()) return out;
  for (const std::string& id : ids) out[id];  // a tenant without step rows has an empty map
  Prepare(tx.conn(), "matih_read_steps_of",
          std::string("SELECT tenant_id::text, ") + kEngineStepColumns +
              " FROM matih.tenant_steps WHERE tenant_id = ANY($1::uuid[])");  // the maps order them
  // 128 tenants a statement: a result of 1,000 tenants' rows (19 MiB of libpq memory beside the
  // parsed records) was most of the runner's peak RSS at 8 workers (proc14, heaptrack).
  constexpr size_t kChunk = 128;
  for (size_t from = 0; from < ids.size(); from += kChunk) {
    // Tenant ids are UUIDs (the caller read them from the table): an array literal holds them.
    std::string array = "{";
    for (size_t i = from; i < ids.size() && i < from + kChunk; ++i)
      array += (array.size() > 1 ? "," : "") + ids[i];
    array += "}";
    // The rows come mostly a tenant at a time: the last tenant's map is looked up again only
    // when the id changes (no string made per row).
    std::map<int, StepRecord>* steps = nullptr;
    std::string_view steps_of;
    for (const auto& r : tx.exec_prepared("matih_read_steps_of", array)) {
      const std::string_view id(r[0].c_str(), r[0].size());
      if (!steps || id != steps_of) {
        auto at = out.try_emplace(std::string(id)).first;
        steps = &at->second;
        steps_of = at->first;
      }
      StepRecord rec = StepFromRow(r, 1, /*times=*/false);
      const int number = rec.number;
      (*steps)[number] = std::move(rec);
    }
  }
  return out;
}

Result<std::vector<StepRecord>> TenantStore::Steps(const std::string& tenant_id) const {
  auto conn = db_.Connect();
  if (!conn.ok()) return conn.status();
  std::vector<StepRecord> out;
  Status s = Guard("read steps", [&] {
    pqxx::nontransaction tx(**conn);
    out = ReadSteps(tx, tenant_id);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<TenantRecord> TenantStore::Command(
    const std::string& slug, const std::string& actor,
    const std::function<Result<TenantChange>(const TenantRecord&)>& decide) {
  if (auto bad = NoSuchSlug(slug)) return *bad;
  auto conn = db_.Connect();
  if (!conn.ok()) return conn.status();
  TenantRecord updated;
  Status s = Database::InTransaction(**conn, [&](pqxx::work& tx) -> Status {
    auto rows = tx.exec_params(std::string("SELECT ") + Columns() +
                                   ", (lease_expires_at IS NOT NULL AND lease_expires_at > now()) AS leased "
                                   "FROM matih.tenants WHERE slug = $1 FOR UPDATE",
                               slug);
    if (rows.empty()) return NotFound("no tenant '" + slug + "'");
    TenantRecord current = FromRow(rows[0]);
    if (rows[0]["leased"].as<bool>())
      return FailedPrecondition("tenant '" + slug + "' is being worked by runner " + current.lease_owner +
                                " (lease until " + current.lease_expires_at +
                                "); try again when that run ends");
    auto change = decide(current);
    if (!change.ok()) return change.status();
    TenantStatus to = change->status.value_or(current.status);
    if (change->status)
      if (Status ok = StateMachine::Check(current.status, to); !ok.ok()) return ok;
    tx.exec_params(
        "UPDATE matih.tenants SET status = $2, tier = COALESCE($3, tier), "
        "generation = generation + $4, attempts = CASE WHEN $5 THEN 0 ELSE attempts END, "
        "crashes = CASE WHEN $5 THEN 0 ELSE crashes END, "
        "first_claimed_at = CASE WHEN $5 THEN NULL ELSE first_claimed_at END, "
        "status_before_deletion = CASE WHEN $2 <> 'PENDING_DELETION' THEN NULL "
        "  WHEN status <> 'PENDING_DELETION' THEN status ELSE status_before_deletion END, "
        "next_attempt_at = now(), last_error = CASE WHEN $5 THEN NULL ELSE last_error END, "
        "resume_from_step = $6, "
        "deletion_due_at = CASE WHEN $7::text IS NULL THEN deletion_due_at ELSE now() + $7::interval END, "
        "last_reconciled_at = CASE WHEN $8 THEN NULL ELSE last_reconciled_at END, "
        "lease_owner = NULL, lease_expires_at = NULL, lease_epoch = lease_epoch + 1 WHERE id = $1",
        current.id, ToString(to), change->tier, change->bump_generation ? 1 : 0, change->reset_attempts,
        change->resume_from_step, change->deletion_grace, change->reconcile_now);
    if (change->resume_from_step) {
      tx.exec_params(
          "UPDATE matih.tenant_steps SET status = 'PENDING', attempts = 0, last_error = NULL "
          "WHERE tenant_id = $1 AND step_number >= $2",
          current.id, *change->resume_from_step);
    }
    std::vector<AuditEvent> events;
    AuditEvent op = change->audit;
    op.details["actor"] = actor;
    events.push_back(op);
    if (change->status && to != current.status) {
      AuditEvent t;
      t.event = "transition";
      t.details = {{"from", ToString(current.status)}, {"to", ToString(to)}, {"reason", op.event}};
      events.push_back(t);
    }
    AuditLog::Append(tx, current.id, "", actor, events);
    auto after =
        tx.exec_params(std::string("SELECT ") + Columns() + " FROM matih.tenants WHERE id = $1", current.id);
    updated = FromRow(after[0]);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return updated;
}

}  // namespace matih::runner
