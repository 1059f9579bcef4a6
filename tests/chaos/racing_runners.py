"""Scenario racing_runners: 4 runners at once over N tenants, and a stale runner taken over.

(a) N tenants (short form 200, long 1,000; tiers mixed) on the no-op catalog (every step of
config/catalog.yaml as test.noop, scripts/bench.d/noop_catalog.py); 4 runner processes, each
looping `run --limit 10` until one finds nothing due. From the audit trail: per tenant, the
intervals of the runs that wrote its events (first to last event) never overlap; the claim epochs
rise with every claim; every tenant is ACTIVE; each tenant-step was applied once (step.finished);
`audit verify` passes; no lease is left held.
(b) The stale runner: a tenant whose step 2 runs 3 s (test.file hang_ms), run.lease 2s. Runner A
starts it; when step 2 is RUNNING, A's process group is stopped (SIGSTOP: a frozen host; its plugin
worker, in a group of its own, goes on). Once A's lease has run out (watched in the database),
runner B takes the tenant over and makes it ACTIVE; then A is continued (SIGCONT). A must write
nothing after B's claim (no audit event, no step state), exit with a documented code, and the
tenant stays ACTIVE with `audit verify` passing.
"""
import os
import shutil
import signal
import subprocess
import threading
import time

from chaos_common import (ROOT, ChaosFailure, ThrowawayDb, descendants, exit_kind, overlapping_runs, say,
                          scenario_runner, wait_until, workdir)

TIERS = ["free", "starter", "professional", "enterprise"]


def racing(build, admin, tenants, details):
    work = workdir("racing")
    db = ThrowawayDb(admin, "chaos_racing")
    try:
        noop = subprocess.run(["python3", os.path.join(ROOT, "scripts", "bench.d", "noop_catalog.py"),
                               os.path.join(ROOT, "config", "catalog.yaml")], capture_output=True, text=True,
                              check=True).stdout
        r, config = scenario_runner(build, work, db.url, noop, "workers = 2\n")
        # Tenants straight through the CLI, 4 at a time.
        say(f"racing: adding {tenants} tenants")
        args = "\n".join(f"race-{i} {TIERS[i % 4]}" for i in range(tenants))
        subprocess.run(["xargs", "-P", "4", "-L", "1", "sh", "-c",
                        '"$1" --config "$2" tenants add --slug "$3" --tier "$4" --admin-email "ops@$3.example" '
                        '>/dev/null', "sh", build.bin, config], input=args, text=True, check=True, cwd=work,
                       env=r.env())  # never the caller's MATIH_* (scripts/test exports the stack's)
        added = int(db.q("SELECT count(*) FROM matih.tenants"))
        if added != tenants:
            raise ChaosFailure(f"racing: only {added} of {tenants} tenants were added")
        exits, lock = [], threading.Lock()

        def loop(n):
            for _ in range(10 * tenants):
                p = r.run(["run", "--limit", "10"], timeout=600)
                with lock:
                    exits.append(p.returncode)
                if p.returncode != 0 or "no tenant was due" in p.stdout:
                    return

        t0 = time.monotonic()
        say("racing: 4 runners looping until nothing is due")
        threads = [threading.Thread(target=loop, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.monotonic() - t0
        active = int(db.q("SELECT count(*) FROM matih.tenants WHERE status = 'ACTIVE'"))
        overlaps = overlapping_runs(db)
        # Claim epochs rise with the audit sequence of each tenant.
        bad_epochs = int(db.q(
            "SELECT count(*) FROM (SELECT tenant_id, (details->>'epoch')::bigint AS e, "
            "lag((details->>'epoch')::bigint) OVER (PARTITION BY tenant_id ORDER BY seq) AS prev "
            "FROM matih.audit_events WHERE event = 'tenant.claimed') x WHERE prev IS NOT NULL AND e <= prev"))
        dups = int(db.q("SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM matih.audit_events "
                        "WHERE event = 'step.finished' GROUP BY tenant_id, step_number) x"))
        held = int(db.q("SELECT count(*) FROM matih.tenants WHERE lease_owner IS NOT NULL"))
        runs = int(db.q("SELECT count(DISTINCT run_id) FROM matih.audit_events WHERE run_id <> ''"))
        runners = int(db.q("SELECT count(DISTINCT runner) FROM matih.runs WHERE tenants_claimed > 0"))
        verify = r.run(["audit", "verify"], timeout=600)
        crashes = sum(1 for c in exits if exit_kind(c) != "ok")
        case = {"tenants": tenants, "runner_processes": len(exits), "runs_with_work": runs,
                "distinct_runners_with_work": runners, "seconds": round(seconds, 1), "active": active,
                "overlapping_runs": overlaps[:5], "overlap_count": len(overlaps), "epoch_regressions": bad_epochs,
                "duplicate_applies": dups, "leases_held": held, "audit_verify_exit": verify.returncode,
                "exits": sorted(set(exits))}
        details["racing"] = case
        converged = (active == tenants and not overlaps and bad_epochs == 0 and held == 0 and verify.returncode == 0
                     and crashes == 0)
        say(f"racing: {tenants} tenants, {len(exits)} runs by 4 loops in {seconds:.1f}s: {active} ACTIVE, "
            f"{len(overlaps)} overlaps, {dups} duplicate applies, audit verify exit {verify.returncode}")
        return converged, dups, (tenants - active) + held + len(overlaps) + bad_epochs, crashes
    finally:
        db.drop()
        shutil.rmtree(work, ignore_errors=True)


STALE_CATALOG = """version: 1
phases: {0: validation, 1: control-plane, 8: finalization}
flows:
  free:         {placement: shared, phases: [0, 1, 8]}
  starter:      {placement: shared, phases: [0, 1, 8]}
  professional: {placement: dedicated, phases: [0, 1, 8]}
  enterprise:   {placement: dedicated, phases: [0, 1, 8]}
defaults:
  retry: {attempts: 1, initial_backoff: 10ms, max_backoff: 10ms}
  timeout: 30s
steps:
  - {number: 1, name: validate-request, phase: 0, kind: test.file, tiers: [free], params: {value: ok}}
  - {number: 2, name: create-tenant-record, phase: 1, kind: test.file, tiers: [free], params: {value: ok, hang_ms: 3000}}
  - {number: 3, name: activate-tenant, phase: 8, kind: test.file, tiers: [free], params: {value: ok}}
"""


def stale(build, admin, details):
    work = workdir("stale")
    db = ThrowawayDb(admin, "chaos_stale")
    a = None
    try:
        r, _ = scenario_runner(build, work, db.url, STALE_CATALOG,
                               "lease = 2s\nheartbeat = 500ms\nmax_attempts = 10\n", state=True)
        state = os.path.join(work, "state")
        r.run(["tenants", "add", "--slug", "stale", "--tier", "free", "--admin-email", "ops@stale.example"], check=True)
        q_step2 = ("SELECT s.status FROM matih.tenant_steps s JOIN matih.tenants t ON t.id = s.tenant_id "
                   "WHERE t.slug = 'stale' AND s.step_number = 2")
        a = r.spawn(["run", "--tenant", "stale"], os.path.join(work, "a.log"))
        wait_until("runner A's step 2 RUNNING", lambda: db.q(q_step2) == "RUNNING", within=30)
        os.killpg(a.pid, signal.SIGSTOP)
        a_run = db.q(f"SELECT id FROM matih.runs WHERE runner LIKE '%:{a.pid}'")
        # A's lease runs out on its own (no heartbeat while stopped).
        wait_until("runner A's lease to run out",
                   lambda: db.q("SELECT lease_expires_at < now() FROM matih.tenants WHERE slug = 'stale'") == "t",
                   within=30)
        b = r.run(["run", "--tenant", "stale"], timeout=120)
        b_status = db.q("SELECT status FROM matih.tenants WHERE slug = 'stale'")
        b_claim = db.q("SELECT max(created_at)::text FROM matih.audit_events WHERE event = 'tenant.claimed'")
        b_run = db.q("SELECT run_id FROM matih.audit_events WHERE event = 'tenant.claimed' ORDER BY seq DESC LIMIT 1")
        before = db.q("SELECT count(*) || '/' || coalesce(max(seq), 0) FROM matih.audit_events")
        steps_before = db.q("SELECT string_agg(step_number || status || coalesce(finished_at::text, ''), ',' "
                            "ORDER BY step_number) FROM matih.tenant_steps")
        os.killpg(a.pid, signal.SIGCONT)
        try:
            a_code = a.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(a.pid, signal.SIGKILL)
            a_code = a.wait()
        left = descendants(a.pid)
        after_a = int(db.q(f"SELECT count(*) FROM matih.audit_events WHERE run_id = '{a_run}' "
                           f"AND created_at >= '{b_claim}'")) if a_run else -1
        after = db.q("SELECT count(*) || '/' || coalesce(max(seq), 0) FROM matih.audit_events")
        steps_after = db.q("SELECT string_agg(step_number || status || coalesce(finished_at::text, ''), ',' "
                           "ORDER BY step_number) FROM matih.tenant_steps")
        status = db.q("SELECT status FROM matih.tenants WHERE slug = 'stale'")
        verify = r.run(["audit", "verify"])
        journal = open(os.path.join(state, "stale", "journal")).read().split("\n")
        case = {"a_run": a_run, "b_run": b_run, "b_exit": b.returncode, "status_after_b": b_status,
                "a_exit": a_code, "a_events_after_takeover": after_a, "audit_unchanged_by_a": before == after,
                "step_states_unchanged_by_a": steps_before == steps_after, "status": status,
                "audit_verify_exit": verify.returncode, "step2_applies": journal.count("apply create-tenant-record"),
                "a_stderr_tail": open(os.path.join(work, "a.log"), errors="replace").read()[-400:]}
        details["stale"] = case
        # README: exit 1 is "anything else"; a runner that lost its lease ends so, and says why.
        a_ok = exit_kind(a_code) == "ok" or (a_code == 1 and "lease lost" in case["a_stderr_tail"])
        crashes = 0 if a_ok and exit_kind(b.returncode) == "ok" else 1
        converged = (status == "ACTIVE" and b.returncode == 0 and after_a == 0 and before == after
                     and steps_before == steps_after and verify.returncode == 0 and crashes == 0 and not left)
        say(f"stale runner: A exit {a_code}, B exit {b.returncode}; A wrote {after_a} events after the takeover; "
            f"tenant {status}; step 2 applied {case['step2_applies']} times (A's frozen apply and B's)")
        # Step 2 is applied by A's worker (which went on) and by B: test.file's apply is idempotent
        # (one file), so two applies make one object. Counted as information, not a duplicate.
        return converged, 0, (0 if status == "ACTIVE" else 1) + (1 if after_a else 0), crashes
    finally:
        if a is not None and a.poll() is None:
            os.killpg(a.pid, signal.SIGKILL)
            a.wait()
        db.drop()
        shutil.rmtree(work, ignore_errors=True)


def run(build, env, form):
    admin = env["MATIH_PG_ADMIN_URL"]
    details = {}
    c1, d1, l1, k1 = racing(build, admin, 1000 if form == "long" else 200, details)
    c2, d2, l2, k2 = stale(build, admin, details)
    return {"runs": 2, "converged": int(c1) + int(c2), "duplicates": d1 + d2, "lost": l1 + l2, "crashes": k1 + k2,
            "details": details, "ok": c1 and c2 and d1 + d2 == 0}
