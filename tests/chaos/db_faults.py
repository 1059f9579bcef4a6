"""Scenario db_faults: the runner's PostgreSQL fails under a run.

A private PostgreSQL cluster of its own (initdb in a temporary folder, a free loopback port), so
that restarting and stopping it disturbs nothing else on the stack. Catalog: 4 test.file steps,
step 2 taking 1.5 s (hang_ms) so that a fault lands mid-run; 6 tenants per case, 2 workers; run.lease 3s
(30s where said).
Cases (each: one fault, then runs until nothing is due, waiting for leases to run out by watching
the database):
  restart     while a step 2 is RUNNING, the server is restarted (pg_ctl restart -m fast);
              db_reconnect 20s: the run recovers (exit 0) or exits 4 (documented)
  terminate   a lock on matih.audit_events is held until a runner backend blocks on it inside its
              write transaction; that backend is killed by pg_terminate_backend (mid-transaction),
              the lock let go; three times in one run
  stop10      (long form) the server stopped for 10 s mid-step, db_reconnect 20s, run.lease 30s:
              the run waits and finishes (exit 0)
  stop10_lease_lost (long form) the same with run.lease 3s: the leases run out during the outage,
              the run gives its tenants up ("lease lost", exit 1), the next run converges
  stop10_exit4 (long form) db_reconnect 2s: the run exits 4, the tenants are left to their
              leases, the next run converges
After each: every tenant ACTIVE, no lease held, nothing RUNNING, each tenant-step finished once in
the audit trail (step.finished), `audit verify` passes; the faulted run's exit code is 0 or 4.
"""
import os
import shutil
import socket
import subprocess
import time

from chaos_common import ChaosFailure, exit_kind, psql, say, scenario_runner, wait_until, workdir

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")

CATALOG = """version: 1
phases: {0: validation, 1: control-plane, 8: finalization}
flows:
  free:         {placement: shared, phases: [0, 1, 8]}
  starter:      {placement: shared, phases: [0, 1, 8]}
  professional: {placement: dedicated, phases: [0, 1, 8]}
  enterprise:   {placement: dedicated, phases: [0, 1, 8]}
defaults:
  retry: {attempts: 3, initial_backoff: 50ms, max_backoff: 200ms}
  timeout: 30s
steps:
  - {number: 1, name: validate-request, phase: 0, kind: test.file, tiers: [free], params: {value: ok}}
  - {number: 2, name: create-tenant-record, phase: 1, kind: test.file, tiers: [free], params: {value: ok, hang_ms: 1500}}
  - {number: 3, name: register-webhook, phase: 1, kind: test.file, tiers: [free], params: {value: ok}}
  - {number: 4, name: activate-tenant, phase: 8, kind: test.file, tiers: [free], params: {value: ok}}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PrivatePg:
    """A PostgreSQL cluster in a folder of its own; as root it runs as the postgres user."""

    def __init__(self, base):
        self.dir = os.path.join(base, "pg")
        os.makedirs(os.path.join(self.dir, "sock"))
        if os.getuid() == 0:
            shutil.chown(base, "postgres")
            os.chmod(base, 0o755)
            for d in (self.dir, os.path.join(self.dir, "sock")):
                shutil.chown(d, "postgres")
        self.port = free_port()
        self.as_pg([f"{PG_BIN}/initdb", "-D", f"{self.dir}/data", "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8"])
        self.start()
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def as_pg(self, argv, check=True):
        if os.getuid() == 0:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        r = subprocess.run(argv, capture_output=True, text=True, cwd="/")
        if check and r.returncode != 0:
            raise ChaosFailure(f"{' '.join(argv)}: {r.stderr.strip()[-400:]}")
        return r

    def ctl(self, *args):
        return self.as_pg([f"{PG_BIN}/pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-w", "-t", "30"]
                          + list(args))

    def start(self):
        self.ctl("-o", f"-p {self.port} -k {self.dir}/sock -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self):
        self.ctl("-m", "fast", "stop")

    def restart(self):
        self.ctl("-m", "fast", "restart")

    def destroy(self):
        self.as_pg([f"{PG_BIN}/pg_ctl", "-D", f"{self.dir}/data", "-m", "immediate", "-w", "stop"], check=False)


def one_case(build, pg, work, name, reconnect, lease, details):
    dbname = f"chaos_{name}"
    psql(pg.admin_url, f"CREATE DATABASE {dbname}")
    url = f"postgresql://postgres@127.0.0.1:{pg.port}/{dbname}"
    q = lambda sql: psql(url, sql, check=False, timeout=10)  # noqa: E731 (None while the server is down)
    case_dir = os.path.join(work, name)
    os.makedirs(case_dir)
    r, _ = scenario_runner(build, case_dir, url, CATALOG,
                           f"lease = {lease}\nheartbeat = 1s\ndb_reconnect = {reconnect}\nworkers = 2\n"
                           "max_attempts = 20\n", state=True)
    slugs = [f"{name.replace('_', '-')}-{i}" for i in range(6)]
    for s in slugs:
        r.run(["tenants", "add", "--slug", s, "--tier", "free", "--admin-email", f"ops@{s}.example"], check=True)
    p = r.spawn(["run"], os.path.join(case_dir, "run.log"))
    wait_until("a step 2 RUNNING",
               lambda: q("SELECT count(*) FROM matih.tenant_steps WHERE step_number = 2 AND status = 'RUNNING'")
               not in (None, "0"), within=30)
    fault = {}
    if name == "restart":
        pg.restart()
    elif name.startswith("stop10"):
        pg.stop()
        time.sleep(10)  # the outage itself: the fault is "down for 10 s"
        pg.start()
    elif name == "terminate":
        killed, in_tx = 0, 0
        for _ in range(3):
            if p.poll() is not None:
                break
            # Mid-transaction for sure: hold a lock the runner's write transactions need (they
            # append audit events), wait until one of its backends is blocked on it inside its
            # transaction, kill that backend, then let go.
            holder = subprocess.Popen(["psql", url, "-qAtX"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True)
            holder.stdin.write("BEGIN;\nLOCK TABLE matih.audit_events IN EXCLUSIVE MODE;\n"
                               "SELECT 'locked:' || pg_backend_pid();\n")
            holder.stdin.flush()
            holder_pid = holder.stdout.readline().strip().split(":")[1]
            try:
                blocked = wait_until("a runner backend blocked inside its transaction", lambda: q(
                    f"SELECT pid || '|' || (xact_start IS NOT NULL) FROM pg_stat_activity "
                    f"WHERE datname = '{dbname}' AND pid NOT IN (pg_backend_pid(), {holder_pid}) "
                    "AND wait_event_type = 'Lock' LIMIT 1") or (p.poll() is not None and "gone"), within=15)
                if blocked != "gone":
                    bpid, tx = blocked.split("|")
                    if q(f"SELECT pg_terminate_backend({bpid})") == "t":
                        killed += 1
                        in_tx += int(tx in ("t", "true"))
            finally:
                holder.stdin.write("COMMIT;\n\\q\n")
                holder.stdin.close()
                holder.wait()
        fault = {"backends_killed": killed, "killed_in_transaction": in_tx}
    try:
        code = p.wait(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        raise ChaosFailure(f"db_faults {name}: the faulted run did not end within 120 s")
    # Then runs until nothing is due; a lease left by a run that gave up is waited out.
    later = []
    for _ in range(10):
        if q("SELECT count(*) FROM matih.tenants WHERE status <> 'ACTIVE'") == "0":
            break
        wait_until("leases to run out", lambda: q(
            "SELECT count(*) FROM matih.tenants WHERE lease_expires_at > now()") == "0", within=30)
        wait_until("retries to be due", lambda: q(
            "SELECT count(*) FROM matih.tenants WHERE status <> 'ACTIVE' AND next_attempt_at > now()") == "0",
            within=60, every=0.1)
        later.append(r.run(["run"], timeout=120).returncode)
    active = int(q("SELECT count(*) FROM matih.tenants WHERE status = 'ACTIVE'") or 0)
    held = int(q("SELECT count(*) FROM matih.tenants WHERE lease_owner IS NOT NULL") or 0)
    running = int(q("SELECT count(*) FROM matih.tenant_steps WHERE status = 'RUNNING'") or 0)
    dups = int(q("SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM matih.audit_events "
                 "WHERE event = 'step.finished' GROUP BY tenant_id, step_number) x") or 0)
    unfinished_runs = int(q("SELECT count(*) FROM matih.runs WHERE finished_at IS NULL") or 0)
    verify = r.run(["audit", "verify"])
    # README: exit 1 is "anything else"; a run whose leases ran out during the outage ends so.
    log_tail = open(os.path.join(case_dir, "run.log"), errors="replace").read()
    lease_lost = name == "stop10_lease_lost" and code == 1 and "lease lost" in log_tail
    crashes = sum(1 for c in [code] + later if exit_kind(c) != "ok")
    case = {"case": name, "db_reconnect": reconnect, "faulted_run_exit": code, "later_run_exits": later,
            "active": active, "leases_held": held, "steps_running": running, "duplicate_finishes": dups,
            "runs_left_open": unfinished_runs, "audit_verify_exit": verify.returncode, **fault,
            "run_log_tail": log_tail[-300:]}
    details.append(case)
    lost = (len(slugs) - active) + held + running
    converged = lost == 0 and verify.returncode == 0 and crashes == 0
    if (name == "stop10_exit4" and code != 4) or (name == "stop10" and code != 0) or (
            name == "stop10_lease_lost" and not lease_lost) or (
            name == "terminate" and fault["killed_in_transaction"] == 0):
        converged = False
    say(f"db fault {name:12s}: faulted run exit {code}, then {later}; {active}/{len(slugs)} ACTIVE, "
        f"{held} leases held, {dups} duplicate finishes, audit verify {verify.returncode}")
    return converged, dups, lost, crashes


def run(build, env, form):
    work = workdir("dbfaults")
    pg = PrivatePg(work)
    cases = [("restart", "20s", "3s"), ("terminate", "20s", "3s")]
    if form == "long":
        cases += [("stop10", "20s", "30s"), ("stop10_lease_lost", "20s", "3s"), ("stop10_exit4", "2s", "3s")]
    details, runs, converged, dups, lost, crashes = [], 0, 0, 0, 0, 0
    try:
        for name, reconnect, lease in cases:
            c, d, l, k = one_case(build, pg, work, name, reconnect, lease, details)
            runs += 1
            converged += int(c)
            dups += d
            lost += l
            crashes += k
    finally:
        pg.destroy()
        shutil.rmtree(work, ignore_errors=True)
    return {"runs": runs, "converged": converged, "duplicates": dups, "lost": lost, "crashes": crashes,
            "details": {"cases": details}, "ok": converged == runs and dups == 0 and lost == 0 and crashes == 0}
