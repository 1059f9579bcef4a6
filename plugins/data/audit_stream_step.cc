#include "data/audit_stream_step.h"

#include <atomic>
#include <chrono>

#include "common/control_plane_schema.h"
#include "data/nats_streams.h"
#include "data/stream_config.h"
#include "data/tenant_names.h"
#include "data/tier_servers.h"
#include "pg_pool/pg_pool.h"

namespace matih::plugins::data {
namespace {

constexpr const char* kRetention = "retention";
constexpr const char* kControlPlaneUrl = "controlplane.database_url";

constexpr const char* kCreateTable = R"sql(
CREATE TABLE IF NOT EXISTS control_plane.audit_settings (
  tenant_id       uuid PRIMARY KEY REFERENCES control_plane.tenants (id) ON DELETE CASCADE,
  stream          text NOT NULL,
  subjects        text NOT NULL,
  max_age_seconds bigint NOT NULL,
  max_bytes       bigint NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now()
))sql";

matih::plugins::PgPool& Sessions() {
  static matih::plugins::PgPool pool;
  return pool;
}

// What the settings row should hold.
struct Wanted {
  std::string stream, subjects;
  StreamLimits limits;
};

Wanted WantedFor(const Context& ctx) {
  const std::string tier = ctx.tier();
  return {AuditStreamName(ctx.slug()), AuditSubjects(ctx.slug()),
          ParseStreamLimits(ctx.params_json(), kRetention, &tier)};
}

bool TableExists(PgSession& session) {
  return ControlPlaneSchemaExists(session) &&
         ControlPlaneTableExists(session, "control_plane.audit_settings");
}

void EnsureTable(PgSession& session, const std::string& url) {
  if (!ControlPlaneSchemaExists(session))
    throw PermanentError("the control-plane schema is missing (step 3 create-tenant-record creates it)");
  EnsureControlPlaneTables(session, url, "control_plane.audit_settings", kCreateTable);
}

// "" when the row matches, "settings row missing" or a short diff otherwise.
std::string RowDifference(pqxx::work& tx, const std::string& tenant_id, const Wanted& want) {
  const auto rows = tx.exec_params(
      "SELECT stream, subjects, max_age_seconds, max_bytes FROM control_plane.audit_settings "
      "WHERE tenant_id = $1::uuid",
      tenant_id);
  if (rows.empty()) return "settings row missing";
  std::string diff;
  auto note = [&](const char* field, const std::string& have, const std::string& wanted) {
    if (have != wanted)
      diff += (diff.empty() ? "settings " : "; settings ") + std::string(field) + ": have " + have +
              ", want " + wanted;
  };
  note("stream", rows[0][0].as<std::string>(), want.stream);
  note("subjects", rows[0][1].as<std::string>(), want.subjects);
  note("max_age_seconds", rows[0][2].as<std::string>(), std::to_string(want.limits.max_age_seconds));
  note("max_bytes", rows[0][3].as<std::string>(), std::to_string(want.limits.max_bytes));
  return diff;
}

std::string RowDifference(const Context& ctx, const Wanted& want) {
  auto session = Sessions().Acquire(ctx.required_setting(kControlPlaneUrl));
  if (!TableExists(*session)) return "settings row missing";
  return session->Transact("read the audit settings", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    return RowDifference(tx, ctx.tenant_id(), want);
  });
}

void WriteRow(const Context& ctx, const Wanted& want) {
  const std::string url = ctx.required_setting(kControlPlaneUrl), id = ctx.tenant_id();
  auto session = Sessions().Acquire(url);
  EnsureTable(*session, url);
  session->Transact("write the audit settings", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    if (tx.exec_params("SELECT 1 FROM control_plane.tenants WHERE id = $1::uuid", id).empty())
      throw PermanentError("tenant " + ctx.slug() +
                           " has no control-plane record yet (step 3 create-tenant-record); cannot store its "
                           "audit settings");
    if (RowDifference(tx, id, want).empty()) return;
    tx.exec_params(
        "INSERT INTO control_plane.audit_settings (tenant_id, stream, subjects, max_age_seconds, max_bytes) "
        "VALUES ($1::uuid, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET stream = EXCLUDED.stream, "
        "subjects = EXCLUDED.subjects, max_age_seconds = EXCLUDED.max_age_seconds, "
        "max_bytes = EXCLUDED.max_bytes, updated_at = now()",
        id, want.stream, want.subjects, want.limits.max_age_seconds, want.limits.max_bytes);
  });
}

// Publishes one verification event and reads it back as the stream's last message on its subject.
void Verify(const Context& ctx, const NatsJetStream& nats, const std::string& stream) {
  static std::atomic<uint64_t> counter{0};
  const std::string subject = "audit." + ctx.slug() + ".provisioner.verify";
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const std::string event = R"({"event":"provisioner.verify","tenant":")" + ctx.tenant_id() +
                            R"(","at_ns":)" + std::to_string(now) + R"(,"n":)" + std::to_string(++counter) +
                            "}";
  jsPubOptions publish;
  jsPubOptions_Init(&publish);
  publish.ExpectStream = stream.c_str();  // the ack must come from the tenant's own stream
  jsPubAck* ack = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_Publish(&ack, nats.js(), subject.c_str(), event.data(), static_cast<int>(event.size()),
                            &publish, &code);
  jsPubAck_Destroy(ack);
  if (s != NATS_OK) nats.Fail(ctx, s, code, "publish the verification event on " + subject);
  natsMsg* msg = nullptr;
  jsOptions options = nats.Options();
  s = js_GetLastMsg(&msg, nats.js(), stream.c_str(), subject.c_str(), &options, &code);
  if (s != NATS_OK) nats.Fail(ctx, s, code, "read the verification event back from stream " + stream);
  const std::string got(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
  natsMsg_Destroy(msg);
  if (got != event)
    throw PermanentError(Describe(
        ctx, nats.label(), "stream " + stream + " did not return the verification event just published"));
}

// The outputs of apply, and of an observe that finds the stream and the row in sync.
void SetOutputs(Context& ctx, const Wanted& want) {
  ctx.set_output("stream", want.stream);
  ctx.set_output("subjects", want.subjects);
}

}  // namespace

void AuditStreamStep::validate_params(std::string_view params_json) {
  ParseStreamLimits(params_json, kRetention, nullptr);
}

Observation AuditStreamStep::observe(Context& ctx) {
  const Wanted want = WantedFor(ctx);
  auto nats = NatsJetStream::ForTenant(ctx);
  StreamInfoPtr info = ReadStream(ctx, *nats, want.stream);
  if (!info) return Observation::Absent();
  std::string diff = StreamDifference(*info->Config, want.subjects, want.limits);
  const std::string row = RowDifference(ctx, want);
  if (!row.empty()) diff += (diff.empty() ? "" : "; ") + row;
  if (!diff.empty()) return Observation::Drifted(diff);
  // Adoptable (plugin.cc): what an apply made and never recorded is found here with its outputs.
  SetOutputs(ctx, want);
  return Observation::InSync();
}

void AuditStreamStep::apply(Context& ctx) {
  const Wanted want = WantedFor(ctx);
  auto nats = NatsJetStream::ForTenant(ctx);
  StreamInfoPtr info = ReadStream(ctx, *nats, want.stream);
  WriteRow(ctx, want);  // first: it refuses a tenant without a control-plane record
  if (!info || !StreamDifference(*info->Config, want.subjects, want.limits).empty())
    PutStream(ctx, *nats, want.stream, want.subjects, want.limits, info != nullptr);
  Verify(ctx, *nats, want.stream);
  SetOutputs(ctx, want);
}

void AuditStreamStep::remove(Context& ctx) {
  DeleteStream(ctx, *NatsJetStream::ForTenant(ctx), AuditStreamName(ctx.slug()));
  auto session = Sessions().Acquire(ctx.required_setting(kControlPlaneUrl));
  if (!TableExists(*session)) return;
  session->Transact("delete the audit settings", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    tx.exec_params("DELETE FROM control_plane.audit_settings WHERE tenant_id = $1::uuid", ctx.tenant_id());
  });
}

}  // namespace matih::plugins::data
