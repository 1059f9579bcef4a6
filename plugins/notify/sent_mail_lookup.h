// SentMailLookup: asks a mailbox's REST API whether a message with a given Message-ID arrived,
// to settle a send whose outcome is unknown (welcome_outbox.h). The API is MailDev's (the local
// SMTP sink): GET <api>/email lists the messages with their `messageId` (without angle brackets).
// A production relay has no such API; there the outbox record alone decides (see
// welcome_email_step.h).
//
// Unreachable API: TransientError. Stateless; safe from any thread.
#pragma once

#include <string>

namespace matih::plugins::notify {

// True when the mailbox at `api_url` holds a message whose Message-ID is `message_id` (with or
// without angle brackets).
bool MailboxHasMessage(const std::string& api_url, const std::string& message_id);

}  // namespace matih::plugins::notify
