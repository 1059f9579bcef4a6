"""Scenario plugin_faults: plugins that crash, hang, blow their memory or throw across the ABI.

For each fault of the `faulty` test plugin (segfault, abort, exit(3), a hang ignoring cancel, a
memory blow-up past plugins.worker_memory_limit, a C++ exception thrown across the C ABI), one
run of the real binary over 3 tenants: two `free` tenants whose steps behave (test.file) and one
`starter` tenant whose step 2 is the fault. failure_policy = park, max_attempts = 1.

Process isolation (the default): the runner survives (exit 3: a tenant ended FAILED), the two
free tenants are ACTIVE, the faulty tenant is FAILED with a reason naming the step, no worker
outlives the run, and a second run finds nothing due (nothing stuck PROVISIONING, no lease held).
in_process: a segfault takes the runner down (killed by SIGSEGV, as README documents); a hang
ignoring cancel is abandoned within its timeout plus stop_grace and the tenant ends FAILED, the
runner exiting 3.
"""
import os
import shutil
import time

from chaos_common import (ChaosFailure, Runner, ThrowawayDb, descendants, exit_kind, runner_config,
                          say, workdir, write_key)

# (kind, what it does). faulty.* is the raw-C-ABI plugin of tests/sdk; chaos.* is ours (SDK).
FAULTS = [("faulty.segfault", "segfault"), ("faulty.abort", "abort()"), ("faulty.exit", "exit(3)"),
          ("faulty.hang", "hang ignoring cancel"), ("chaos.hog", "memory blow-up"),
          ("faulty.throw", "throw across the C ABI"), ("chaos.throw", "throw through the SDK layer")]

CATALOG = """version: 1
phases: {{0: validation, 1: control-plane, 8: finalization}}
flows:
  free:         {{placement: shared, phases: [0, 1, 8]}}
  starter:      {{placement: shared, phases: [0, 1, 8]}}
  professional: {{placement: dedicated, phases: [0, 1, 8]}}
  enterprise:   {{placement: dedicated, phases: [0, 1, 8]}}
defaults:
  retry: {{attempts: 1, initial_backoff: 10ms, max_backoff: 10ms}}
  timeout: 10s
steps:
  - {{number: 1, name: validate-request, phase: 0, kind: test.file, tiers: [free, starter], params: {{value: ok}}}}
  - {{number: 2, name: create-tenant-record, phase: 1, kind: test.file, tiers: [free], params: {{value: ok}}}}
  - {{number: 3, name: register-webhook, phase: 1, kind: {fault}, tiers: [starter], timeout: 700ms, params: {{seconds: 30}}}}
  - {{number: 4, name: activate-tenant, phase: 8, kind: test.file, tiers: [free, starter], params: {{value: ok}}}}
"""


def one_case(build, admin_url, fault, isolation, details):
    """Returns (converged, lost, crashes, note)."""
    work = workdir(f"plugin-{fault.replace('.', '-')}-{isolation}")
    db = ThrowawayDb(admin_url, "chaos_plugin")
    try:
        catalog = os.path.join(work, "catalog.yaml")
        with open(catalog, "w") as f:
            f.write(CATALOG.format(fault=fault))
        key = os.path.join(work, "secret.key")
        write_key(key)
        state = os.path.join(work, "state")
        os.makedirs(state)
        config = runner_config(
            os.path.join(work, "runner.conf"), db.url, [build.test_steps, build.faulty, build.chaos], catalog, key,
            f"[plugins]\nisolation = {isolation}\nstop_grace = 300ms\nworker_memory_limit = 256MiB\n"
            "[run]\nfailure_policy = park\nmax_attempts = 1\nworkers = 3\n"
            f"[targets]\ntest.state_dir = {state}\n")
        r = Runner(build, config, work)
        r.run(["migrate"], check=True)
        for slug, tier in (("calm-a", "free"), ("calm-b", "free"), ("faulty", "starter")):
            r.run(["tenants", "add", "--slug", slug, "--tier", tier, "--admin-email", f"ops@{slug}.example"],
                  check=True)
        log = os.path.join(work, "run.log")
        t0 = time.monotonic()
        p = r.spawn(["run"], log)
        try:
            code = p.wait(timeout=60)
        except Exception:
            p.kill()
            raise ChaosFailure(f"{fault}/{isolation}: the run did not end within 60 s")
        seconds = time.monotonic() - t0
        leftover = descendants(p.pid)
        status = {s: db.q(f"SELECT status FROM matih.tenants WHERE slug = '{s}'") for s in ("calm-a", "calm-b", "faulty")}
        reason = db.q("SELECT coalesce(last_error, '') FROM matih.tenants WHERE slug = 'faulty'")
        stderr = open(log, errors="replace").read()
        case = {"fault": fault, "isolation": isolation, "exit": code, "seconds": round(seconds, 2),
                "status": status, "reason": reason[:300]}
        crashes, lost, converged = 0, 0, False
        if isolation == "in_process" and fault == "faulty.segfault":
            # Documented: a segfault inside the runner takes it down. The tenants it held are left
            # to their leases; a process-mode run afterwards must finish them.
            expected = code == -11 or code == 139 or "AddressSanitizer" in stderr
            case["expected"] = "the runner dies of SIGSEGV"
            if not expected:
                crashes += 1
            # Recovery: expire the dead runner's leases, then run in process mode.
            db.q("UPDATE matih.tenants SET lease_expires_at = now() - interval '1 second' WHERE lease_owner IS NOT NULL")
            # max_attempts 2: the crash used the first attempt of all three tenants.
            text = open(config).read().replace("isolation = in_process", "isolation = process")
            text = text.replace("max_attempts = 1", "max_attempts = 2")
            open(config, "w").write(text)
            again = r.run(["run"], timeout=120)
            case["recovery_exit"] = again.returncode
            status = {s: db.q(f"SELECT status FROM matih.tenants WHERE slug = '{s}'") for s in ("calm-a", "calm-b", "faulty")}
            case["status_after_recovery"] = status
            converged = expected and status == {"calm-a": "ACTIVE", "calm-b": "ACTIVE", "faulty": "FAILED"}
        else:
            if exit_kind(code) != "ok":
                crashes += 1
            case["expected"] = "exit 3; calm tenants ACTIVE; faulty FAILED naming the step"
            # A hang is bounded: its timeout (700ms), stop_grace, the kill, and the other tenants.
            bounded = "hang" not in fault or seconds < 8
            converged = (bounded and code == 3 and status == {"calm-a": "ACTIVE", "calm-b": "ACTIVE", "faulty": "FAILED"}
                         and ("register-webhook" in reason or "step 3" in reason))
        if leftover:
            case["workers_left"] = len(leftover)
            lost += 1
        # Nothing stuck: no lease held, nothing RUNNING, a further run finds nothing due.
        held = int(db.q("SELECT count(*) FROM matih.tenants WHERE lease_owner IS NOT NULL"))
        stuck = int(db.q("SELECT count(*) FROM matih.tenants WHERE status IN ('PROVISIONING', 'PENDING')"))
        if held or stuck:
            lost += held + stuck
            case["stuck"] = {"leases_held": held, "provisioning": stuck}
        # Each calm tenant's targets exist once (test.file's files), the faulty one has no step 4.
        for slug in ("calm-a", "calm-b"):
            for step in ("validate-request", "create-tenant-record", "activate-tenant"):
                if not os.path.exists(os.path.join(state, slug, step)):
                    lost += 1
                    case.setdefault("missing", []).append(f"{slug}/{step}")
        # Duplicates: test.file journals one line per apply; each calm step is applied once.
        dups = 0
        for slug in ("calm-a", "calm-b"):
            path = os.path.join(state, slug, "journal")
            lines = open(path).read().split("\n") if os.path.exists(path) else []
            applies = [x for x in lines if x.startswith("apply ")]
            dups += len(applies) - len(set(applies))
        case["duplicates"] = dups
        if os.path.exists(os.path.join(state, "faulty", "activate-tenant")):
            case["past_the_fault"] = True
            converged = False
        details.append(case)
        say(f"plugin fault {fault:16s} {isolation:10s} exit {code:4d} in {seconds:5.1f}s "
            f"{'converged' if converged else 'NOT as documented'}")
        return converged, lost, crashes, dups
    finally:
        db.drop()
        shutil.rmtree(work, ignore_errors=True)


def run(build, env, form):
    admin = env["MATIH_PG_ADMIN_URL"]
    # In sanitizer builds no worker memory limit applies: the blow-up would take the machine.
    cases = [(f, "process") for f, _ in FAULTS if not (build.sanitized and f == "chaos.hog")] + [("faulty.segfault", "in_process"), ("faulty.hang", "in_process")]
    details, runs, converged, lost, crashes, dups = [], 0, 0, 0, 0, 0
    for fault, isolation in cases:
        c, l, k, d = one_case(build, admin, fault, isolation, details)
        dups += d
        runs += 1
        converged += int(c)
        lost += l
        crashes += k
    return {"runs": runs, "converged": converged, "duplicates": dups, "lost": lost, "crashes": crashes,
            "details": {"cases": details},
            "ok": converged == runs and lost == 0 and crashes == 0 and dups == 0}
