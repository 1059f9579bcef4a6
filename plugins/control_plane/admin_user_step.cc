#include "control_plane/admin_user_step.h"

#include "common/control_plane_schema.h"
#include "common/secure_token.h"
#include "common/settings.h"
#include "common/tenant_spec.h"
#include "control_plane/control_plane_db.h"

namespace matih::plugins {
namespace {

std::string DesiredEmail(const Context& ctx) {
  std::string email = TenantSpec::Parse(ctx.spec_json()).admin_email();
  if (email.empty()) throw InvalidArgument("the tenant spec has no admin_email");
  return email;
}

// True when the secret store holds a token whose hash is `stored_hash`.
bool TokenMatches(const Context& ctx, const std::string& key, const pqxx::field& stored_hash) {
  if (stored_hash.is_null()) return false;
  auto token = ctx.secret(kInviteTokenSecret);
  return token && ConstantTimeEquals(KeyedHash(key, *token), stored_hash.as<std::string>());
}

}  // namespace

Observation AdminUserStep::observe(Context& ctx) {
  const std::string want = DesiredEmail(ctx);
  const std::string key = LoadHashKey(ctx);
  auto existing = OpenExistingControlPlane(ctx);
  if (!existing) return Observation::Absent();
  auto& session = **existing;
  const std::string tenant = ctx.tenant_id();
  return session.Transact("read the admin user", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    auto rows = tx.exec_params(
        "SELECT email, invite_token_hash FROM control_plane.users WHERE tenant_id = $1::uuid AND "
        "is_initial_admin",
        tenant);
    if (rows.empty()) return Observation::Absent();
    std::string diff;
    const std::string have = rows[0][0].as<std::string>();
    if (have != want) AddDifference(diff, "admin e-mail", have, want);
    if (!TokenMatches(ctx, key, rows[0][1]))
      AddNote(diff, "invite token hash does not match the secret store");
    return diff.empty() ? Observation::InSync() : Observation::Drifted(diff);
  });
}

void AdminUserStep::apply(Context& ctx) {
  const std::string email = DesiredEmail(ctx);
  const std::string key = LoadHashKey(ctx);
  const std::string ttl_hours = std::to_string(
      ParseCount("controlplane.invite_ttl_hours", SettingOr(ctx, "controlplane.invite_ttl_hours", "168")));
  auto lease = OpenControlPlane(ctx);
  auto& session = *lease;
  const std::string tenant = ctx.tenant_id();
  const std::string user_id = session.Transact("write the admin user", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    if (tx.exec_params("SELECT 1 FROM control_plane.tenants WHERE id = $1::uuid", tenant).empty())
      throw PermanentError("the tenant record is missing: step create-tenant-record must run first");
    auto rows = tx.exec_params(
        "SELECT id, email, invite_token_hash FROM control_plane.users "
        "WHERE tenant_id = $1::uuid AND is_initial_admin FOR UPDATE",
        tenant);
    if (!rows.empty() && rows[0][1].as<std::string>() == email && TokenMatches(ctx, key, rows[0][2]))
      return rows[0][0].as<std::string>();
    // Issue a token: the plaintext goes to the secret store before the hash is committed, so a
    // failure in between leaves a mismatch that the next observe reports and apply repairs.
    const std::string token = NewInviteToken();
    ctx.put_secret(kInviteTokenSecret, token);
    const std::string hash = KeyedHash(key, token);
    if (rows.empty())
      return tx
          .exec_params1(
              "INSERT INTO control_plane.users (tenant_id, email, is_initial_admin, invite_token_hash, "
              "invite_expires_at) VALUES ($1::uuid, $2, true, $3, now() + make_interval(hours => "
              "$4::integer)) "
              "RETURNING id",
              tenant, email, hash, ttl_hours)[0]
          .as<std::string>();
    tx.exec_params(
        "UPDATE control_plane.users SET email = $2, invite_token_hash = $3, "
        "invite_expires_at = now() + make_interval(hours => $4::integer) WHERE id = $1::uuid",
        rows[0][0].as<std::string>(), email, hash, ttl_hours);
    return rows[0][0].as<std::string>();
  });
  ctx.set_output("admin_user_id", user_id);
}

void AdminUserStep::remove(Context& ctx) {
  auto existing = OpenExistingControlPlane(ctx);
  if (!existing) return;  // nothing was ever created
  auto& session = **existing;
  const std::string tenant = ctx.tenant_id();
  session.Transact("delete the admin user", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    tx.exec_params("DELETE FROM control_plane.users WHERE tenant_id = $1::uuid AND is_initial_admin", tenant);
  });
}

}  // namespace matih::plugins
