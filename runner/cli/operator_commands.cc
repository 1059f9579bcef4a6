// Operator commands: rollback, delete, suspend, resume, retry, upgrade. Each moves the tenant
// through the state machine and leaves the work to the next run.
#include "cli/commands.h"
#include "store/tenant_store.h"

namespace matih::runner {
namespace po = boost::program_options;
namespace {

using S = TenantStatus;

// The common shape: one positional SLUG, extra options, and a decision on the locked row.
int OperatorCommand(CommandContext& ctx, const Args& args, const std::string& usage,
                    const std::string& summary, po::options_description extra,
                    const std::function<Result<TenantChange>(const TenantRecord&)>& decide,
                    const std::function<std::string(const TenantRecord&)>& done_message) {
  std::string slug;
  po::options_description o("Options");
  o.add_options()("slug", po::value(&slug)->required(), "the tenant");
  o.add(extra);
  po::positional_options_description pos;
  pos.add("slug", 1);
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs(ctx, usage, summary, o, pos, args, vm, exit)) return exit;
  auto db = ctx.database();
  if (!db.ok()) return ctx.Fail(db.status());
  TenantStore store(**db);
  auto updated = store.Command(slug, ctx.actor(), decide);
  if (!updated.ok()) return ctx.Fail(updated.status());
  ctx.out() << done_message(*updated) << "\n";
  return kExitOk;
}

// A tenant whose deletion failed: retry resumes the deletion; it cannot change tier.
bool FailedDeletion(const TenantRecord& t) {
  return t.status == S::kFailed && t.failed_from == "DEPROVISIONING";
}

// FAILED after having been converged once (an ACTIVE tenant whose upgrade or spec change failed):
// it still works where it was, so it must never be torn down by a retry.
bool FailedUpgrade(const TenantRecord& t) {
  return t.status == S::kFailed && t.observed_generation > 0 && !FailedDeletion(t);
}

Result<TenantChange> Move(const TenantRecord& t, S to, const std::string& event, const std::string& hint) {
  if (!StateMachine::Allowed(t.status, to))
    return FailedPrecondition("tenant '" + t.slug + "' is " + ToString(t.status) + "; " + hint);
  TenantChange change;
  change.status = to;
  change.audit.event = event;
  return change;
}

}  // namespace

int CmdRollback(CommandContext& ctx, const Args& args) {
  return OperatorCommand(
      ctx, args, "rollback SLUG",
      "Removes a failed tenant's applied steps in reverse order (on the next run).", {},
      [](const TenantRecord& t) {
        return Move(t, S::kRollingBack, "operator.rollback",
                    "only a FAILED or PROVISIONING tenant can be rolled back");
      },
      [](const TenantRecord& t) {
        return "tenant " + t.slug + " is ROLLING_BACK; the next run removes its steps";
      });
}

int CmdDelete(CommandContext& ctx, const Args& args) {
  // A sentinel no duration can be, so `--grace ''` is an error and not the default.
  const std::string kNotGiven(1, '\0');
  std::string grace_text = kNotGiven;
  po::options_description extra;
  extra.add_options()("grace", po::value(&grace_text),
                      "grace period before teardown, e.g. 7d, 12h, 0s "
                      "(default: tenants.grace_period)");
  Millis grace = ctx.config().grace_period;
  return OperatorCommand(
      ctx, args, "delete SLUG [--grace DURATION]",
      "Schedules the tenant's teardown after a grace period; the row is kept (DELETED).", extra,
      [&](const TenantRecord& t) -> Result<TenantChange> {
        if (grace_text != kNotGiven) {
          auto g = ParseDuration(grace_text, "--grace");
          if (!g.ok()) return g.status();
          grace = *g;
        }
        if (t.status == S::kPending) {
          // Never provisioned: nothing to tear down, so no grace period either.
          TenantChange cancel;
          cancel.status = S::kDeleted;
          cancel.audit.event = "operator.cancel";
          return cancel;
        }
        auto change = Move(t, S::kPendingDeletion, "operator.delete",
                           "only a PENDING, ACTIVE, SUSPENDED, FAILED or ROLLED_BACK tenant can be deleted");
        if (!change.ok()) return change;
        change->deletion_grace = std::to_string(grace.count()) + " milliseconds";
        change->audit.details = {{"grace", FormatDuration(grace)}};
        return change;
      },
      [&](const TenantRecord& t) {
        if (t.status == S::kDeleted)
          return "tenant " + t.slug + " was PENDING and is cancelled (DELETED); nothing had been provisioned";
        return "tenant " + t.slug + " is PENDING_DELETION; teardown after " + t.deletion_due_at +
               " (cancel with: matih-provisioner resume " + t.slug + ")";
      });
}

int CmdCancel(CommandContext& ctx, const Args& args) {
  return OperatorCommand(
      ctx, args, "cancel SLUG",
      "Cancels a PENDING tenant before it is provisioned; the row is kept (DELETED).", {},
      [](const TenantRecord& t) -> Result<TenantChange> {
        if (t.status != S::kPending)
          return FailedPrecondition("tenant '" + t.slug + "' is " + ToString(t.status) +
                                    "; only a PENDING tenant can be cancelled (use delete for the others)");
        TenantChange change;
        change.status = S::kDeleted;
        change.audit.event = "operator.cancel";
        return change;
      },
      [](const TenantRecord& t) {
        return "tenant " + t.slug + " is cancelled (DELETED); nothing had been provisioned";
      });
}

int CmdSuspend(CommandContext& ctx, const Args& args) {
  return OperatorCommand(
      ctx, args, "suspend SLUG", "Suspends an ACTIVE tenant: no drift correction until it is resumed.", {},
      [](const TenantRecord& t) -> Result<TenantChange> {
        if (t.status != S::kActive)
          return FailedPrecondition("tenant '" + t.slug + "' is " + ToString(t.status) +
                                    "; only an ACTIVE tenant can be suspended");
        return Move(t, S::kSuspended, "operator.suspend", "only an ACTIVE tenant can be suspended");
      },
      [](const TenantRecord& t) { return "tenant " + t.slug + " is SUSPENDED"; });
}

int CmdResume(CommandContext& ctx, const Args& args) {
  return OperatorCommand(
      ctx, args, "resume SLUG",
      "Reactivates a SUSPENDED tenant, or cancels the deletion of a PENDING_DELETION tenant.", {},
      [](const TenantRecord& t) -> Result<TenantChange> {
        if (t.status != S::kSuspended && t.status != S::kPendingDeletion)
          return FailedPrecondition("tenant '" + t.slug + "' is " + ToString(t.status) +
                                    "; only a SUSPENDED tenant (or one PENDING_DELETION) can be resumed");
        TenantChange change;
        change.status = S::kActive;
        if (t.status == S::kPendingDeletion) {
          // Back to where `delete` found it: a FAILED tenant never becomes ACTIVE unprovisioned.
          // (Rows deleted before the status was kept were ACTIVE or SUSPENDED: ACTIVE.)
          change.status = ParseTenantStatus(t.status_before_deletion).value_or(S::kActive);
          change.audit.details = {{"back_to", ToString(*change.status)}};
        }
        change.reconcile_now = *change.status == S::kActive;  // checked for drift on the next run
        change.audit.event = t.status == S::kSuspended ? "operator.resume" : "operator.cancel_deletion";
        return change;
      },
      [](const TenantRecord& t) {
        if (t.status == S::kActive)
          return "tenant " + t.slug + " is ACTIVE; the next run checks it for drift";
        return "tenant " + t.slug + " is " + ToString(t.status) + " again, as before its deletion";
      });
}

int CmdRetry(CommandContext& ctx, const Args& args) {
  std::string from;
  po::options_description extra;
  extra.add_options()("from", po::value(&from),
                      "start again at this step (number or name); earlier DONE steps are kept");
  return OperatorCommand(
      ctx, args, "retry SLUG [--from STEP]",
      "Provisions a FAILED or ROLLED_BACK tenant again on the next run; a tenant that failed in an "
      "upgrade resumes the upgrade (UPGRADING), never a rollback; one that failed while being deleted "
      "resumes the deletion (DEPROVISIONING).",
      extra,
      [&](const TenantRecord& t) -> Result<TenantChange> {
        if (t.status != S::kFailed && t.status != S::kRolledBack)
          return FailedPrecondition("tenant '" + t.slug + "' is " + ToString(t.status) +
                                    "; only a FAILED or ROLLED_BACK tenant can be retried");
        // A FAILED tenant that was converged before (ACTIVE once) failed in an upgrade or a spec
        // change: it keeps working where it is, so retry resumes the upgrade, which observes every
        // step and applies what drifted, and which a failure parks again instead of rolling back.
        if (FailedDeletion(t)) {
          // Its objects are partly removed already: provisioning or upgrading it would make them
          // again. The deletion goes on where it stopped (removing what is gone is a no-op).
          if (!from.empty())
            return InvalidArgument("--from: tenant '" + t.slug +
                                   "' failed while it was being deleted; retry resumes the deletion");
          auto change = Move(t, S::kDeprovisioning, "operator.retry", "");
          if (change.ok()) change->reset_attempts = true;
          return change;
        }
        const bool upgrade = FailedUpgrade(t);
        if (upgrade && !from.empty())
          return InvalidArgument(
              "--from: tenant '" + t.slug +
              "' failed in an upgrade; retry resumes the upgrade, which observes every step");
        auto change = Move(t, upgrade ? S::kUpgrading : S::kProvisioning, "operator.retry", "");
        if (!change.ok()) return change;
        change->reset_attempts = true;
        if (!from.empty()) {
          auto catalog = ctx.catalog();
          if (!catalog.ok()) return catalog.status();
          const CatalogStep* step = (*catalog)->FindByName(from);
          if (!step && std::all_of(from.begin(), from.end(), ::isdigit))
            step = (*catalog)->Find(std::stoi(from));
          if (!step) return InvalidArgument("--from: no step '" + from + "' in the catalog");
          change->resume_from_step = step->number;
          change->audit.details = {{"from_step", step->number}};
        }
        return change;
      },
      [](const TenantRecord& t) {
        if (t.status == S::kUpgrading)
          return "tenant " + t.slug + " is UPGRADING again; the next run resumes its upgrade";
        if (t.status == S::kDeprovisioning)
          return "tenant " + t.slug + " is DEPROVISIONING again; the next run resumes its deletion";
        return "tenant " + t.slug + " is PROVISIONING; the next run continues it";
      });
}

int CmdUpgrade(CommandContext& ctx, const Args& args) {
  std::string tier;
  po::options_description extra;
  extra.add_options()("tier", po::value(&tier)->required(), "the new tier");
  return OperatorCommand(
      ctx, args, "upgrade SLUG --tier T",
      "Changes an ACTIVE tenant's tier (or a tenant whose upgrade failed: on, or back to its old tier); the "
      "next run converges it (UPGRADING).",
      extra,
      [&](const TenantRecord& t) -> Result<TenantChange> {
        auto catalog = ctx.catalog();
        if (!catalog.ok()) return catalog.status();
        if (!(*catalog)->Flow(tier)) return InvalidArgument("tier '" + tier + "' has no flow in the catalog");
        if (tier == t.tier) return InvalidArgument("tenant '" + t.slug + "' is already " + tier);
        // An ACTIVE tenant, or one whose upgrade failed (it can go on, or go back to its old tier).
        if (FailedDeletion(t))
          return FailedPrecondition("tenant '" + t.slug +
                                    "' failed while it was being deleted; retry resumes the deletion");
        if (t.status == S::kFailed && !FailedUpgrade(t))
          return FailedPrecondition("tenant '" + t.slug +
                                    "' is FAILED and was never provisioned; retry it or roll it back");
        const TierFlow* from = (*catalog)->Flow(t.tier);
        const TierFlow* to = (*catalog)->Flow(tier);
        if (from && from->placement == "dedicated" && to->placement == "shared" &&
            !to->downgrade_from.count(t.tier))
          return FailedPrecondition("tenant '" + t.slug + "' has dedicated infrastructure (tier " + t.tier +
                                    "); moving it back to the shared tier " + tier +
                                    " is refused (the catalog's flows." + tier +
                                    ".downgrade_from does not list " + t.tier + ")");
        auto change = Move(t, S::kUpgrading, "operator.upgrade",
                           "only an ACTIVE tenant, or one whose upgrade failed, can change tier");
        if (!change.ok()) return change;
        // The tenant under its new tier must pass step 1 now: an upgrade the next run would refuse
        // (enterprise without quotas) is refused here, and nothing is written.
        if (Status s = ctx.CheckWithStep1({t.id, t.slug, tier, t.region, t.spec_json}); !s.ok())
          return Status(s.code(), "cannot upgrade '" + t.slug + "' to " + tier + ": " + s.message());
        change->tier = tier;
        change->bump_generation = true;
        change->audit.details = {{"from_tier", t.tier}, {"to_tier", tier}};
        return change;
      },
      [](const TenantRecord& t) {
        return "tenant " + t.slug + " is UPGRADING to " + t.tier + "; the next run converges it";
      });
}

}  // namespace matih::runner
