// notify.email (step 55, send-welcome-email): the welcome e-mail to the tenant's admin, with the
// invite link of step 4, sent over SMTP exactly once (welcome_outbox.h).
//
// The invite token is read from the secret store as the shared secret
// "controlplane/admin-invite-token" of plugin matih-control-plane (the control-plane plugin
// shares it); when it is absent the step fails permanently and says which step must run first.
// The message carries the invite link only, never an API key, and is never logged or stored.
//
// observe: ABSENT without a record; IN_SYNC when the record says sent to the current admin
// address with the current token; DRIFTED when the admin address changed or the token was rotated
// since (a new mail is due), when the last send failed, or when a send was interrupted (the
// mailbox API, when configured, says whether the message arrived). apply: sends when due, settles
// an interrupted send without ever sending twice, writes nothing when in sync. remove: an e-mail
// cannot be recalled, so remove deletes the record only (and says so in the log).
// Settings: see plugin.cc. Output: welcome_message_id. Safe to call from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::notify {

inline constexpr const char* kControlPlanePlugin = "matih-control-plane";
inline constexpr const char* kInviteTokenSecret = "controlplane/admin-invite-token";

class WelcomeEmailStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::notify
