#include "notify/welcome_email_step.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "common/control_plane_schema.h"
#include "common/settings.h"
#include "common/tenant_spec.h"
#include "notify/sent_mail_lookup.h"
#include "notify/smtp_sender.h"
#include "notify/welcome_message.h"
#include "notify/welcome_outbox.h"
#include "pg_pool/pg_pool.h"

namespace matih::plugins::notify {
namespace {

PgPool& Pool() {
  static PgPool pool;
  return pool;
}
SmtpSender& Sender() {
  static SmtpSender sender;
  return sender;
}

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

std::string Recipient(const Context& ctx) {
  const std::string email = TenantSpec::Parse(ctx.spec_json()).admin_email();
  if (email.empty()) throw InvalidArgument("the tenant spec has no admin_email");
  return AddressOf(email, "the tenant's admin_email");
}

std::string InviteToken(const Context& ctx) {
  auto token = ctx.shared_secret(kControlPlanePlugin, kInviteTokenSecret);
  if (!token || token->empty())
    throw PermanentError("send-welcome-email: the secret store holds no invite token (" +
                         std::string(kControlPlanePlugin) + "/" + kInviteTokenSecret +
                         "); step create-admin-user must run first");
  return *token;
}

std::string MailboxApi(const Context& ctx) { return SettingOr(ctx, "notify.mailbox_api_url", ""); }

// Whether an interrupted send `message_id` reached the mailbox, or nullopt when no mailbox API
// is configured.
std::optional<bool> Arrived(const Context& ctx, const std::string& message_id) {
  const std::string api = MailboxApi(ctx);
  if (api.empty()) return std::nullopt;
  return MailboxHasMessage(api, message_id);
}

void Send(Context& ctx, PgSession& session, const std::string& recipient, const std::string& token,
          const std::string& message_id) {
  const std::string from = ctx.required_setting("notify.from");
  WelcomeFields fields;
  fields.from = from;
  fields.recipient = recipient;
  fields.message_id = message_id;
  fields.slug = ctx.slug();
  fields.display_name = TenantSpec::Parse(ctx.spec_json()).display_name(ctx.slug());
  fields.invite_link = InviteLink(ctx.required_setting("notify.invite_url"), ctx.slug(), token);
  fields.date = Rfc5322Now();
  SmtpOptions smtp;
  smtp.url = ctx.required_setting("notify.smtp_url");
  smtp.user = SettingOr(ctx, "notify.smtp_user", "");
  smtp.password = SettingOr(ctx, "notify.smtp_password", "");
  smtp.timeout_ms = static_cast<long>(
      ParseCount("notify.smtp_timeout_ms", SettingOr(ctx, "notify.smtp_timeout_ms", "30000")));
  std::string message = BuildWelcomeMessage(fields);
  const SmtpResult result =
      Sender().Send(smtp, AddressOf(from, "setting targets.notify.from"), recipient, message);
  sodium_memzero(message.data(), message.size());
  const std::string relay = "SMTP relay " + smtp.url;
  switch (result.outcome) {
    case SmtpResult::Outcome::kSent:
      MarkSent(session, ctx.tenant_id(), message_id, true);
      ctx.info("welcome e-mail " + message_id + " handed to " + relay);
      return;
    case SmtpResult::Outcome::kNotSent:
      MarkFailed(session, ctx.tenant_id(), message_id, result.error);
      if (result.permanent)
        throw PermanentError("send-welcome-email: " + relay + " refused: " + result.error);
      throw TransientError("send-welcome-email: " + relay + ": " + result.error);
    case SmtpResult::Outcome::kUnknown: break;
  }
  // The record stays 'sending': the next attempt settles it before anything is sent again.
  throw TransientError("send-welcome-email: " + relay + " did not confirm message " + message_id + " (" +
                       result.error + "); the next attempt checks before sending again");
}

}  // namespace

void WelcomeEmailStep::validate_params(std::string_view params_json) {
  auto params =
      nlohmann::json::parse(params_json.empty() ? std::string_view("{}") : params_json, nullptr, false);
  if (!params.is_object() || !params.empty()) throw InvalidArgument("send-welcome-email takes no params");
}

Observation WelcomeEmailStep::observe(Context& ctx) {
  const std::string recipient = Recipient(ctx);
  auto session = Pool().Acquire(ctx.required_setting("notify.database_url"));
  if (!OutboxTableExists(*session)) return Observation::Absent();
  auto record = session->Transact("read the welcome e-mail record",
                                  [&](pqxx::work& tx) { return ReadOutbox(tx, ctx.tenant_id(), false); });
  if (!record) return Observation::Absent();
  std::string diff;
  auto note = [&diff](const std::string& s) { diff += (diff.empty() ? "" : "; ") + s; };
  if (record->recipient != recipient)
    note("admin e-mail: mail went to '" + record->recipient + "', want '" + recipient + "'");
  if (record->token_sha256 != Sha256Hex(InviteToken(ctx)))
    note("invite token rotated since the mail was sent");
  if (record->status == "failed") note("last send of " + record->message_id + " failed");
  if (record->status == "sending") {
    auto arrived = Arrived(ctx, record->message_id);
    note("send of " + record->message_id + " interrupted: " +
         (!arrived   ? std::string("outcome unknown")
          : *arrived ? "it reached the mailbox"
                     : "not in the mailbox"));
  }
  return diff.empty() ? Observation::InSync() : Observation::Drifted(diff);
}

void WelcomeEmailStep::apply(Context& ctx) {
  const std::string recipient = Recipient(ctx);
  const std::string token = InviteToken(ctx);
  const std::string token_hash = Sha256Hex(token);
  const std::string from_address =
      AddressOf(ctx.required_setting("notify.from"), "setting targets.notify.from");
  const std::string url = ctx.required_setting("notify.database_url");
  SmtpHostOf(ctx.required_setting("notify.smtp_url"));  // refuse a bad URL before recording anything
  auto session = Pool().Acquire(url);
  EnsureOutboxTable(*session, url);
  const std::string tenant = ctx.tenant_id();

  // Decide, and commit a new intent before any SMTP traffic.
  enum class Next { kNothing, kSettle, kSend };
  auto [next, message_id] = session->Transact("record the welcome e-mail intent", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    if (tx.exec_params("SELECT 1 FROM control_plane.tenants WHERE id = $1::uuid", tenant).empty())
      throw PermanentError("the tenant record is missing: step create-tenant-record must run first");
    auto record = ReadOutbox(tx, tenant, true);
    if (record && record->recipient == recipient && record->token_sha256 == token_hash) {
      if (record->status == "sent") return std::make_pair(Next::kNothing, record->message_id);
      if (record->status == "sending") return std::make_pair(Next::kSettle, record->message_id);
      // The last send failed for sure: the same message again, as an open intent once more.
      RecordIntent(tx, tenant, *record);
      return std::make_pair(Next::kSend, record->message_id);
    }
    OutboxRecord intent{NewMessageId(tenant, from_address), recipient, token_hash, "sending", false};
    RecordIntent(tx, tenant, intent);
    return std::make_pair(Next::kSend, intent.message_id);
  });

  if (next == Next::kSettle) {
    auto arrived = Arrived(ctx, message_id);
    if (!arrived) {
      // No way to ask the relay: sending again could deliver twice, so the mail counts as sent.
      MarkSent(*session, tenant, message_id, false);
      ctx.warn(
          "welcome e-mail " + message_id +
          ": an earlier send was interrupted and its outcome is unknown; it is not sent again (check the "
          "relay's log for this Message-ID)");
      next = Next::kNothing;
    } else if (*arrived) {
      MarkSent(*session, tenant, message_id, true);
      ctx.info("welcome e-mail " + message_id +
               ": an interrupted send had reached the mailbox; recorded, not resent");
      next = Next::kNothing;
    } else {
      next = Next::kSend;  // the mailbox does not have it: the earlier attempt never got through
    }
  }
  if (next == Next::kSend) Send(ctx, *session, recipient, token, message_id);
  ctx.set_output("welcome_message_id", message_id);
}

void WelcomeEmailStep::remove(Context& ctx) {
  auto session = Pool().Acquire(ctx.required_setting("notify.database_url"));
  if (!OutboxTableExists(*session)) return;
  DeleteOutbox(*session, ctx.tenant_id());
  ctx.info("send-welcome-email: an e-mail cannot be recalled; removed only the record of the welcome e-mail");
}

}  // namespace matih::plugins::notify
