#include "notify/welcome_outbox.h"

#include "common/control_plane_schema.h"

namespace matih::plugins::notify {
namespace {

constexpr const char* kCreateTable = R"sql(
CREATE TABLE IF NOT EXISTS control_plane.welcome_emails (
  tenant_id      uuid PRIMARY KEY REFERENCES control_plane.tenants (id) ON DELETE CASCADE,
  message_id     text NOT NULL UNIQUE,
  recipient      text NOT NULL,
  token_sha256   text NOT NULL,
  status         text NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
  confirmed      boolean NOT NULL DEFAULT false,
  last_error     text,
  intent_at      timestamptz NOT NULL DEFAULT now(),
  settled_at     timestamptz
);
)sql";

}  // namespace

bool OutboxTableExists(PgSession& session) {
  return ControlPlaneTableExists(session, "control_plane.welcome_emails");
}

void EnsureOutboxTable(PgSession& session, const std::string& url) {
  EnsureControlPlaneTables(session, url, "control_plane.welcome_emails", kCreateTable);
}

std::optional<OutboxRecord> ReadOutbox(pqxx::work& tx, const std::string& tenant_id, bool lock) {
  EnterControlPlaneRole(tx);
  auto rows = tx.exec_params(std::string("SELECT message_id, recipient, token_sha256, status, confirmed "
                                         "FROM control_plane.welcome_emails WHERE tenant_id = $1::uuid") +
                                 (lock ? " FOR UPDATE" : ""),
                             tenant_id);
  if (rows.empty()) return std::nullopt;
  return OutboxRecord{rows[0][0].as<std::string>(), rows[0][1].as<std::string>(),
                      rows[0][2].as<std::string>(), rows[0][3].as<std::string>(), rows[0][4].as<bool>()};
}

void RecordIntent(pqxx::work& tx, const std::string& tenant_id, const OutboxRecord& intent) {
  EnterControlPlaneRole(tx);
  tx.exec_params(
      "INSERT INTO control_plane.welcome_emails (tenant_id, message_id, recipient, token_sha256, status) "
      "VALUES ($1::uuid, $2, $3, $4, 'sending') "
      "ON CONFLICT (tenant_id) DO UPDATE SET message_id = EXCLUDED.message_id, recipient = "
      "EXCLUDED.recipient, "
      "  token_sha256 = EXCLUDED.token_sha256, status = 'sending', confirmed = false, last_error = NULL, "
      "  intent_at = now(), settled_at = NULL",
      tenant_id, intent.message_id, intent.recipient, intent.token_sha256);
}

void MarkSent(PgSession& session, const std::string& tenant_id, const std::string& message_id,
              bool confirmed) {
  session.Transact("record the welcome e-mail as sent", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    tx.exec_params(
        "UPDATE control_plane.welcome_emails SET status = 'sent', confirmed = $3, last_error = NULL, "
        "settled_at = now() WHERE tenant_id = $1::uuid AND message_id = $2",
        tenant_id, message_id, confirmed);
  });
}

void MarkFailed(PgSession& session, const std::string& tenant_id, const std::string& message_id,
                const std::string& error) {
  session.Transact("record the failed welcome e-mail", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    tx.exec_params(
        "UPDATE control_plane.welcome_emails SET status = 'failed', last_error = $3, settled_at = now() "
        "WHERE tenant_id = $1::uuid AND message_id = $2",
        tenant_id, message_id, error);
  });
}

void DeleteOutbox(PgSession& session, const std::string& tenant_id) {
  session.Transact("delete the welcome e-mail record", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    tx.exec_params("DELETE FROM control_plane.welcome_emails WHERE tenant_id = $1::uuid", tenant_id);
  });
}

}  // namespace matih::plugins::notify
