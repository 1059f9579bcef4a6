// WelcomeOutbox: the record of each tenant's welcome e-mail in the control-plane schema, table
// control_plane.welcome_emails (one row per tenant, owned by role matih_control_plane), which
// makes the send exactly-once:
//   1. the intent (a fresh Message-ID, status 'sending') is committed BEFORE the SMTP call;
//   2. after the relay's 250 the row becomes 'sent' (confirmed); after a sure failure, 'failed';
//   3. a row still 'sending' when the next attempt starts means the outcome is unknown (a crash,
//      a lost answer): that attempt asks the mailbox for the Message-ID when it can, and otherwise
//      takes the message as sent (unconfirmed) rather than risk sending it twice.
// The row keeps the recipient and the SHA-256 of the invite token the message carried (the token
// itself is high-entropy and never stored), so a changed admin address or a rotated token is seen
// as drift. It never holds the message text.
//
// Tables are created idempotently by EnsureControlPlaneTables (the schema's lock). Functions
// take the caller's session or transaction; safe from any thread, each with its own session.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "common/pg_session.h"

namespace matih::plugins::notify {

struct OutboxRecord {
  std::string message_id, recipient, token_sha256, status;  // status: sending | sent | failed
  bool confirmed = false;
};

void EnsureOutboxTable(PgSession& session, const std::string& url);
bool OutboxTableExists(PgSession& session);

// The tenant's row (FOR UPDATE when `lock`), or nullopt.
std::optional<OutboxRecord> ReadOutbox(pqxx::work& tx, const std::string& tenant_id, bool lock);
// Replaces the tenant's row by a new intent (status 'sending').
void RecordIntent(pqxx::work& tx, const std::string& tenant_id, const OutboxRecord& intent);
// Settles the intent `message_id` (no-op when the row holds another one).
void MarkSent(PgSession& session, const std::string& tenant_id, const std::string& message_id,
              bool confirmed);
void MarkFailed(PgSession& session, const std::string& tenant_id, const std::string& message_id,
                const std::string& error);
void DeleteOutbox(PgSession& session, const std::string& tenant_id);

}  // namespace matih::plugins::notify
