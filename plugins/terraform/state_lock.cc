#include "terraform/state_lock.h"

#include <chrono>
#include <thread>

#include "common/pg_session.h"
#include "common/settings.h"
#include "terraform/terraform_db.h"

namespace matih::plugins::terraform {
namespace {

// Two-int advisory keys: class 'MATI', then hashtext(tenant id) (steps 50-54 of one tenant).
constexpr const char* kClass = "1296126025";  // 0x4d415449

std::string TenantKeySql(pqxx::work& tx, const std::string& tenant_id) {
  return kClass + std::string(", hashtext(") + tx.quote("terraform-state:" + tenant_id) + ")";
}

long long TtlSeconds(const Context& ctx) {
  long long ttl =
      ParseCount("terraform.lock_ttl_seconds", SettingOr(ctx, "terraform.lock_ttl_seconds", "1800"));
  return ttl > 0 ? ttl : 1;
}

// `for_update`: lock the row for the rest of the transaction (writers only; observe reads plain).
std::optional<LockHolder> ReadRow(pqxx::work& tx, const std::string& tenant_id, bool for_update = true) {
  auto rows = tx.exec(
      "SELECT holder_run_id, lease_epoch, expires_at <= now(), expires_at::text "
      "FROM control_plane.terraform_state_locks WHERE tenant_id = " +
      tx.quote(tenant_id) + (for_update ? " FOR UPDATE" : ""));
  if (rows.empty()) return std::nullopt;
  return LockHolder{rows[0][0].c_str(), rows[0][1].as<long long>(), rows[0][2].as<bool>(),
                    rows[0][3].c_str()};
}

std::string Describe(const LockHolder& h) {
  return "run " + h.run_id + " (lease epoch " + std::to_string(h.epoch) + ", expires " + h.expires_at + ")";
}

}  // namespace

std::optional<LockHolder> ReadStateLock(const Context& ctx) {
  const std::string url = DatabaseUrl(ctx);
  if (!TerraformTablesExist(url)) return std::nullopt;
  std::optional<LockHolder> holder;
  WithTransaction(url, "read the Terraform state lock", true,
                  [&](pqxx::work& tx) { holder = ReadRow(tx, ctx.tenant_id(), false); });
  return holder;
}

LockHolder AcquireStateLock(const Context& ctx) {
  const std::string url = DatabaseUrl(ctx);
  EnsureTerraformTables(url);
  const long long epoch = ctx.lease_epoch();
  const std::string ttl = std::to_string(TtlSeconds(ctx));
  LockHolder result;
  WithTransaction(url, "acquire the Terraform state lock", true, [&](pqxx::work& tx) {
    if (!tx.exec1("SELECT pg_try_advisory_xact_lock(" + TenantKeySql(tx, ctx.tenant_id()) + ")")[0]
             .as<bool>())
      throw TransientError(ctx.step_name() + ": another runner is taking the lock of tenant " + ctx.slug() +
                           " right now; try again");
    auto held = ReadRow(tx, ctx.tenant_id());
    if (held && held->epoch > epoch)
      throw PermanentError(ctx.step_name() + ": tenant " + ctx.slug() + "'s Terraform state is locked by " +
                           Describe(*held) + ", a newer claim than ours (lease epoch " +
                           std::to_string(epoch) + "); this runner's claim is stale");
    if (held && held->epoch < epoch && !held->expired)
      throw TransientError(ctx.step_name() + ": tenant " + ctx.slug() + "'s Terraform state is locked by " +
                           Describe(*held) + "; it is taken over once it expires");
    auto row = tx.exec1(
        "INSERT INTO control_plane.terraform_state_locks (tenant_id, holder_run_id, lease_epoch, expires_at) "
        "VALUES (" +
        tx.quote(ctx.tenant_id()) + ", " + tx.quote(ctx.run_id()) + ", " + std::to_string(epoch) +
        ", now() + interval '" + ttl +
        " seconds') ON CONFLICT (tenant_id) DO UPDATE SET holder_run_id = EXCLUDED.holder_run_id, "
        "lease_epoch = EXCLUDED.lease_epoch, expires_at = EXCLUDED.expires_at, acquired_at = CASE WHEN "
        "control_plane.terraform_state_locks.lease_epoch = EXCLUDED.lease_epoch THEN "
        "control_plane.terraform_state_locks.acquired_at ELSE now() END RETURNING expires_at::text");
    if (held && held->epoch < epoch)
      ctx.warn(ctx.step_name() + ": took over the expired lock of " + Describe(*held));
    result = LockHolder{ctx.run_id(), epoch, false, row[0].c_str()};
  });
  return result;
}

void ReleaseStateLock(const Context& ctx, bool and_older) {
  const std::string url = DatabaseUrl(ctx);
  if (!TerraformTablesExist(url)) return;
  WithTransaction(url, "release the Terraform state lock", true, [&](pqxx::work& tx) {
    tx.exec("DELETE FROM control_plane.terraform_state_locks WHERE tenant_id = " + tx.quote(ctx.tenant_id()) +
            " AND lease_epoch " + (and_older ? "<= " : "= ") + std::to_string(ctx.lease_epoch()));
  });
}

TerraformRunGuard::TerraformRunGuard(const Context& ctx) : tenant_id_(ctx.tenant_id()) {
  try {
    connection_ = std::make_unique<pqxx::connection>(DatabaseUrl(ctx));
    pqxx::nontransaction tx(*connection_);
    const std::string sql = "SELECT pg_try_advisory_lock(" + std::string(kClass) + ", hashtext(" +
                            tx.quote("terraform-run:" + tenant_id_) + "))";
    // A run that is just ending gets a few seconds to let go; a real other runner does not.
    for (int attempt = 0; !tx.exec1(sql)[0].as<bool>(); ++attempt) {
      if (attempt >= 50 || ctx.cancelled())
        throw TransientError("terraform is already running for tenant " + ctx.slug() +
                             " (another runner); try again");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  } catch (...) {
    RethrowAsStepError("lock the Terraform run of tenant " + ctx.slug());
  }
}

TerraformRunGuard::~TerraformRunGuard() {
  // Closing the session releases its advisory locks.
  try {
    connection_.reset();
  } catch (...) {
  }
}

}  // namespace matih::plugins::terraform
