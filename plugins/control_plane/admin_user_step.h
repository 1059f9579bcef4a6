// controlplane.admin_user (step 4, create-admin-user): the tenant's first administrator, a row in
// control_plane.users with the e-mail of the spec's admin_email, no password, and a one-time
// invite token.
//
// The token (`mti_` + 43 base62 characters from libsodium's CSPRNG) goes to the secret store as
// secret `controlplane/admin-invite-token` and nowhere else; the row keeps only its keyed hash
// (common/secure_token.h) and an expiry. observe reports DRIFTED when the e-mail was changed by
// hand or the stored hash no longer matches the token in the secret store (compared in constant
// time); apply then corrects the e-mail and issues a fresh token (the old one went to the old
// address, or is unknown). remove deletes the user (and its role bindings).
// Settings: controlplane.database_url, controlplane.hash_key_file (control_plane_db.h),
// controlplane.invite_ttl_hours (optional, default 168). Output: admin_user_id.
// Safe to call from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins {

inline constexpr const char* kInviteTokenSecret = "controlplane/admin-invite-token";

class AdminUserStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
};

}  // namespace matih::plugins
