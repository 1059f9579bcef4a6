"""Shared pieces of the chaos scenarios (tests/chaos/*.py, run by scripts/chaos).

Owns: where the build and the stack are, throwaway runner databases, running the real
matih-provisioner binary (to completion, or in its own process group so that a SIGKILL takes its
plugin workers too), polling the database (never sleeping blindly), and writing one scenario's
result file var/chaos/<scenario>.json. Single-threaded callers only, except Runner.spawn, whose
processes run concurrently.

Result file format (the report script reads every *.json in var/chaos/):
  {"scenario": str, "runs": N, "converged": N, "duplicates": N, "lost": N, "crashes": N,
   "form": "short"|"long", "finished_at": ISO-8601 UTC, "ok": bool, "details": {...}}
runs: fault injections; converged: injections after which every tenant reached its expected end
state; duplicates: objects made twice on a target; lost: tenants or objects missing, or leases
stuck past their end; crashes: runner deaths the suite did not cause itself (a signal, an
undocumented exit code).
"""
import datetime
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Exit codes of `run` the runner documents (README): 0 all fine, 3 a tenant ended FAILED,
# 4 the database was lost past run.db_reconnect, 1 anything else (a tenant left to retry later,
# a lease lost). 2 is a refusal (bad input, unclaimable tenant). A signal is a crash.
DOCUMENTED_RUN_EXITS = {0, 1, 3, 4}


def say(msg):
    print(f"chaos: {msg}", file=sys.stderr, flush=True)


class ChaosFailure(Exception):
    """A check of a scenario failed: the scenario's result says so and the suite exits 1."""


def stack_env():
    """The keys of var/stack.env (written by scripts/stack up), as the shell would read them."""
    path = os.path.join(ROOT, "var", "stack.env")
    if not os.path.exists(path):
        raise ChaosFailure(f"{path} is missing: start the stack first (MATIH_PORT_BASE=... scripts/stack up)")
    out = subprocess.run(["bash", "-c", 'set -a; source "$1"; env -0', "bash", path],
                         check=True, capture_output=True).stdout.decode()
    env = {}
    for item in out.split("\0"):
        k, _, v = item.partition("=")
        if k.startswith("MATIH_"):
            env[k] = v
    return env


def psql(url, sql, check=True, timeout=30):
    """One statement through psql; the unaligned, tuples-only output, stripped."""
    r = subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql],
                       capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise ChaosFailure(f"psql failed ({r.returncode}): {r.stderr.strip()} in: {sql[:200]}")
    return r.stdout.strip() if r.returncode == 0 else None


def wait_until(what, probe, within=30.0, every=0.02):
    """Polls probe() until it returns something true; returns it, or raises after `within` s."""
    until = time.monotonic() + within
    while True:
        v = probe()
        if v:
            return v
        if time.monotonic() > until:
            raise ChaosFailure(f"timed out after {within:.0f}s waiting for {what}")
        time.sleep(every)


def url_with_db(admin_url, name):
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


class ThrowawayDb:
    """A database of its own on a PostgreSQL server, dropped by drop()."""

    def __init__(self, admin_url, prefix):
        self.admin_url = admin_url
        self.name = f"{prefix}_{secrets.token_hex(4)}"
        psql(admin_url, f"CREATE DATABASE {self.name}")
        self.url = url_with_db(admin_url, self.name)

    def q(self, sql, check=True):
        return psql(self.url, sql, check=check)

    def drop(self):
        psql(self.admin_url, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)", check=False)


class Build:
    """The binaries the scenarios run: the runner, the real plugins and the test plugins."""

    def __init__(self, build_dir):
        self.dir = os.path.abspath(build_dir)
        self.bin = os.path.join(self.dir, "runner", "matih-provisioner")
        self.plugins = os.path.join(self.dir, "plugins")
        self.test_steps = os.path.join(self.dir, "test-plugins", "steps")
        self.faulty = os.path.join(self.dir, "test-plugins", "faulty")
        self.chaos = os.path.join(self.dir, "test-plugins", "chaos")
        cache = os.path.join(self.dir, "CMakeCache.txt")
        # Sanitizer builds set no worker memory limit (README): a memory blow-up is not bounded there.
        self.sanitized = os.path.exists(cache) and "MATIH_SANITIZE:BOOL=ON" in open(cache).read()
        if not os.access(self.bin, os.X_OK):
            raise ChaosFailure(f"no runner binary at {self.bin}: build it (scripts/build --target matih-provisioner)")


class Runner:
    """matih-provisioner with one config file, run from `cwd`, with an empty environment."""

    def __init__(self, build, config, cwd):
        self.build, self.config, self.cwd = build, config, cwd

    def argv(self, args):
        return [self.build.bin, "--config", self.config] + list(args)

    def env(self):
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}

    def run(self, args, timeout=300, check=False):
        r = subprocess.run(self.argv(args), cwd=self.cwd, env=self.env(), capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise ChaosFailure(f"{' '.join(args)} exited {r.returncode}: {r.stderr.strip()[-800:]}")
        return r

    def spawn(self, args, log_path):
        """Starts the runner in a process group of its own (its plugin workers join it)."""
        log = open(log_path, "ab")
        p = subprocess.Popen(self.argv(args), cwd=self.cwd, env=self.env(), stdout=log, stderr=log,
                             start_new_session=True)
        log.close()
        return p


def descendants(pid):
    """Pids of every process below `pid` (from /proc), children first found first."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def kill_group(proc):
    """SIGKILL to the runner's process group and to the group of each of its plugin workers
    (README: each worker runs in a process group of its own), all at once; reaped."""
    groups = {proc.pid}
    for pid in descendants(proc.pid):
        try:
            groups.add(os.getpgid(pid))
        except ProcessLookupError:
            pass
    # The runner first: a runner that outlived its worker by a moment would record the worker's
    # death as the step's failure (and apply the failure policy), which is not the crash meant.
    for g in [proc.pid] + sorted(groups - {proc.pid}):
        try:
            os.killpg(g, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if g == proc.pid:
            wait_until(f"runner {proc.pid} to die", lambda: proc.poll() is not None, within=10, every=0.001)
    proc.wait()
    # Nothing may survive (a worker left running would keep working the tenant).
    for g in groups:
        wait_until(f"process group {g} to be gone", lambda g=g: not _group_alive(g), within=10)
    return len(groups) - 1


def _group_alive(pgid):
    """Whether a live (not zombie) process of group `pgid` remains."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def exit_kind(code):
    """'ok' for a documented exit code of `run`, else a description (a crash)."""
    if code in DOCUMENTED_RUN_EXITS:
        return "ok"
    if code < 0:
        return f"signal {-code}"
    return f"exit {code}"


def write_key(path):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(secrets.token_hex(32) + "\n")


def workdir(prefix):
    return tempfile.mkdtemp(prefix=f"matih-chaos-{prefix}.")


def write_result(scenario, form, runs, converged, duplicates, lost, crashes, details, ok):
    out_dir = os.path.join(ROOT, "var", "chaos")
    os.makedirs(out_dir, exist_ok=True)
    result = {
        "scenario": scenario, "runs": runs, "converged": converged, "duplicates": duplicates,
        "lost": lost, "crashes": crashes, "form": form,
        "finished_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ok": ok, "details": details,
    }
    path = os.path.join(out_dir, f"{scenario}.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)
    return result


def overlapping_runs(db):
    """Per tenant, the runs whose audited intervals [first event, last event] overlap another run's.

    Every event a run writes for a tenant lies inside its lease; two runs never hold one lease at
    once, so intervals of different runs must be disjoint. Operator events (run_id '') are left out.
    """
    rows = db.q("SELECT tenant_id, run_id, min(created_at)::text, max(created_at)::text, "
                "extract(epoch FROM min(created_at))::text, extract(epoch FROM max(created_at))::text "
                "FROM matih.audit_events WHERE run_id <> '' GROUP BY tenant_id, run_id "
                "ORDER BY tenant_id, min(created_at)")
    by_tenant = {}
    for line in rows.splitlines() if rows else []:
        tenant, run, first, last, f_epoch, l_epoch = line.split("|")
        by_tenant.setdefault(tenant, []).append((float(f_epoch), float(l_epoch), run, first, last))
    overlaps = []
    for tenant, spans in by_tenant.items():
        spans.sort()
        for a, b in zip(spans, spans[1:]):
            if b[0] < a[1]:
                overlaps.append({"tenant": tenant, "run_a": a[2], "a": [a[3], a[4]], "run_b": b[2],
                                 "b": [b[3], b[4]]})
    return overlaps


def runner_config(path, db_url, plugin_dirs, catalog, key_file, extra=""):
    lines = ["[database]", f"url = {db_url}", "[plugins]"]
    lines += [f"dir = {d}" for d in plugin_dirs]
    lines += ["[catalog]", f"file = {catalog}", "[secrets]", f"key_file = {key_file}", "[log]", "level = warn"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n" + extra)
    return path


def scenario_runner(build, work, db_url, catalog_text, run_settings, state=False):
    """The setup the test-steps scenarios share, in `work`: catalog.yaml holding `catalog_text`, a
    fresh secret.key, runner.conf over the test-steps plugins with `run_settings` as its [run]
    section (and, when `state`, a state/ folder given to the test plugin as test.state_dir), then
    `migrate`. Returns (Runner, config path)."""
    catalog = os.path.join(work, "catalog.yaml")
    with open(catalog, "w") as f:
        f.write(catalog_text)
    key = os.path.join(work, "secret.key")
    write_key(key)
    extra = "[run]\n" + run_settings
    if state:
        os.makedirs(os.path.join(work, "state"))
        extra += f"[targets]\ntest.state_dir = {os.path.join(work, 'state')}\n"
    config = runner_config(os.path.join(work, "runner.conf"), db_url, [build.test_steps], catalog, key, extra)
    r = Runner(build, config, work)
    r.run(["migrate"], check=True)
    return r, config
