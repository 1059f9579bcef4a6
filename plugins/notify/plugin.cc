// matih-notify: phase 8 of provisioning, step 55 (send-welcome-email): the welcome e-mail with the
// admin's invite link, over SMTP (libcurl), exactly once (welcome_outbox.h).
//
// Settings read (runner config, section [targets]; config/targets.example.conf has examples):
//   notify.database_url     required: libpq URL of the control-plane database (the outbox table
//                           control_plane.welcome_emails; usually controlplane.database_url)
//   notify.smtp_url         required: smtp://host:587 (STARTTLS, required unless the host is
//                           loopback) or smtps://host:465
//   notify.smtp_user        optional: SMTP AUTH user
//   notify.smtp_password    optional, secret: SMTP AUTH password
//   notify.from             required: "Name <address>" or "address"; its domain ends Message-IDs
//   notify.invite_url       required: the invite page; the link adds ?tenant=<slug>&token=<token>
//   notify.mailbox_api_url  optional: a MailDev-style REST API (GET /email) where an interrupted
//                           send is looked up by Message-ID (local stack); without it an
//                           interrupted send is never repeated
//   notify.smtp_timeout_ms  optional: whole SMTP transaction (default 30000)
// Secrets read: matih-control-plane's shared controlplane/admin-invite-token. No params.
#include <matih/step.hpp>

#include "notify/welcome_email_step.h"

MATIH_PLUGIN("matih-notify", "1.0.0") {
  plugin.setting("notify.database_url", "libpq URL of the control-plane database", MATIH_SETTING_REQUIRED);
  plugin.setting("notify.smtp_url", "SMTP relay: smtp://host:port (STARTTLS) or smtps://host:port",
                 MATIH_SETTING_REQUIRED);
  plugin.setting("notify.smtp_user", "SMTP AUTH user");
  plugin.setting("notify.smtp_password", "SMTP AUTH password", MATIH_SETTING_SECRET);
  plugin.setting("notify.from", "sender: \"Name <address>\" or address", MATIH_SETTING_REQUIRED);
  plugin.setting("notify.invite_url", "invite page; the link adds ?tenant=<slug>&token=<token>",
                 MATIH_SETTING_REQUIRED);
  plugin.setting("notify.mailbox_api_url",
                 "MailDev-style REST API to look up an interrupted send (local stack)");
  plugin.setting("notify.smtp_timeout_ms", "timeout of the whole SMTP transaction (default 30000)");
  plugin.add<matih::plugins::notify::WelcomeEmailStep>(
      "notify.email", "The welcome e-mail with the admin's invite link, sent exactly once over SMTP");
}
