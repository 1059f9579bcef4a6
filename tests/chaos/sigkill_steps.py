"""Scenario sigkill_steps: the runner SIGKILLed while each step of the real flows is RUNNING.

On the local stack with the real catalog (config/catalog.yaml, every enabled step) and the built
plugins (process isolation), one tenant per tier flow (free, professional, enterprise), in a
throwaway runner database, GitOps repository and bare remote, certificate and Terraform folders.
For each tenant, the target steps in flow order (long form: every step of the flow; short form:
a sample of 8 over the phases, listed in SHORT_SAMPLE): `run --tenant <slug>` is started; the
database is polled (a persistent psql session, no sleeping) until the next target step is
RUNNING in matih.tenant_steps; then the runner's process group and its plugin workers' groups are
SIGKILLed; the dead runner's lease is waited out (lease_expires_at, run.lease 2s) and a new run is
started for the next target. A target that finished between two polls is "passed" (counted, not
killed). Then `run --tenant` until the tenant is ACTIVE, `audit verify`, and the real targets are
counted for duplicates:
  control plane   rows of the tenant (control_plane.tenants by slug; users, roles, api_keys by
                  name/email) made twice
  git             files of the tenant added more than once on the remote (git log --diff-filter=A)
  DNS             PowerDNS zones named for the tenant (one expected)
  e-mail          welcome e-mails to the tenant's admin in MailDev (one expected)
  Terraform       state rows per workspace of the tenant (one expected); serials reported
  identity        clients at the OIDC provider per unique name of the tenant (one expected)
Every tenant is torn down afterwards (delete --grace 0s, run), as scripts/bench --real does.
To rerun a part: MATIH_CHAOS_FLOWS="free" (flows) and MATIH_CHAOS_STEPS="18,19,20" (target steps
of every form, in place of the sample).
"""
import collections
import json
import os
import secrets
import shutil
import subprocess
import time
import urllib.request

import yaml

from chaos_common import (ROOT, ChaosFailure, Runner, ThrowawayDb, exit_kind, kill_group, say, wait_until,
                          workdir, write_key)

FLOWS = ["free", "professional", "enterprise"]
# A runner killed in phase 7 leaves its Terraform state lock (steps 50-54) held until the lock's
# TTL (terraform.lock_ttl_seconds, default 1800 s) runs out: the tenant waits that long. Lowered
# here so the suite waits seconds, not half an hour (a Terraform apply here takes ~1 s).
TERRAFORM_LOCK_TTL = 15
# Faults this suite found that are still open, expected to fail (issue 16: "marked expected-to-fail
# with the issue's title, never deleted"): (pattern in the tenant's last_error, title). A tenant
# that ends so still counts as lost in the figures; the scenario is marked xfail instead of failed.
KNOWN_FAULTS = [
    # None open. Fixed: a push killed mid-way leaving refs/heads/<branch>.lock in a local-path
    # remote (plugins/support/kube_delivery RemotePushLock); after kills in steps 18-20 the managed
    # identity "absent" while step 18 is DONE: step 20's update rotated the registration access
    # token and its answer was lost (plugins/identity ClientRegistration::Adopt).
]
# Short form: 8 steps over the phases (control plane, vault, data, DNS, monitoring, billing,
# Terraform, e-mail).
# Only steps whose intent is committed before they apply: an adoptable step (kubernetes.object,
# services.helm_release) is seldom seen RUNNING, since its intent waits for run.commit_interval.
SHORT_SAMPLE = {"free": [3, 21, 41, 43, 55], "professional": [52], "enterprise": [17, 47]}


class PsqlSession:
    """One psql process kept open, for polling fast (a query is a round trip, not a process)."""

    def __init__(self, url):
        self.p = subprocess.Popen(["psql", url, "-qAtX"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def q(self, sql):
        self.p.stdin.write(sql.rstrip(";") + ";\n\\echo __end__\n")
        self.p.stdin.flush()
        out = []
        while True:
            line = self.p.stdout.readline()
            if line == "":
                raise ChaosFailure("the polling psql session ended")
            if line.rstrip("\n") == "__end__":
                return "\n".join(out)
            out.append(line.rstrip("\n"))

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def flow_steps(catalog, tier):
    """Enabled steps of a tier's flow, in execution order (flow's phase order, then number)."""
    order = catalog["flows"][tier]["phases"]
    steps = [s for s in catalog["steps"] if s.get("enabled", True) and tier in s.get("tiers", [])
             and s["phase"] in order]
    return sorted(steps, key=lambda s: (order.index(s["phase"]), s["number"]))


def json_field(path, key):
    with open(path) as f:
        return json.load(f)[key]


def write_config(work, env, db_url, build):
    e = lambda k, d="": env.get(k, d)  # noqa: E731
    with open(e("MATIH_OIDC_INITIAL_ACCESS_TOKEN_FILE")) as f:
        iat = f.read().strip()
    sp = e("MATIH_OIDC_SERVICE_PRINCIPAL_FILE")
    zone = e("MATIH_PARENT_ZONE", "tenants.matih.test")
    text = f"""[database]
url = {db_url}
[plugins]
dir = {build.plugins}
[catalog]
file = {ROOT}/config/catalog.yaml
[secrets]
key_file = {work}/secret.key
[tenants]
regions = eu-west,us-east
default_region = eu-west
[run]
lease = 2s
heartbeat = 500ms
max_attempts = 1000
backoff = 1s
max_backoff = 3s
[log]
level = warn
[targets]
tenant.service_catalog = {ROOT}/config/service-catalog.yaml
controlplane.database_url = {db_url}
controlplane.hash_key_file = {work}/controlplane-hash.key
templates.dir = {ROOT}/config/templates
kubernetes.delivery = gitops
gitops.repository = {work}/gitops
gitops.branch = main
gitops.remote = {work}/gitops-remote.git
storage.blob_endpoint = {e('MATIH_AZURITE_BLOB_ENDPOINT')}
storage.account_keys_file = {e('MATIH_AZURITE_ACCOUNTS_FILE')}
storage.shared_account = {e('MATIH_AZURITE_SHARED_ACCOUNT')}
storage.dedicated_accounts = {e('MATIH_AZURITE_POOL_ACCOUNTS')}
storage.database_url = {db_url}
vector.chroma_url = {e('MATIH_CHROMA_URL')}
identity.issuer_url = {e('MATIH_OIDC_URL')}
identity.initial_access_token = {iat}
identity.parent_zone = {zone}
identity.cluster_issuer_url = https://kubernetes.default.svc.cluster.local
identity.azure_subscription_id = 00000000-0000-0000-0000-000000000000
identity.service_principal_id = {json_field(sp, 'client_id')}
identity.service_principal_secret = {json_field(sp, 'client_secret')}
data.shared.database_url = {e('MATIH_PG_ADMIN_URL')}
data.dedicated.database_url = {e('MATIH_PG_ADMIN_URL')}
data.shared.redis_url = {e('MATIH_REDIS_URL')}
data.shared.redis_password_file = {e('MATIH_REDIS_PASSWORD_FILE')}
data.dedicated.redis_url = {e('MATIH_REDIS_URL')}
data.dedicated.redis_password_file = {e('MATIH_REDIS_PASSWORD_FILE')}
data.shared.nats_url = {e('MATIH_NATS_URL')}
data.dedicated.nats_url = {e('MATIH_NATS_URL')}
network.powerdns_api_url = {e('MATIH_POWERDNS_API_URL')}
network.powerdns_api_key = {e('MATIH_POWERDNS_API_KEY')}
network.dns_server = {e('MATIH_POWERDNS_DNS')}
network.ingress_address = 127.0.0.1
network.nginx_prefix = {e('MATIH_NGINX_PREFIX')}
network.nginx_http_port = {e('MATIH_NGINX_HTTP_PORT')}
network.nginx_https_port = {e('MATIH_NGINX_HTTPS_PORT')}
network.ca_cert_file = {e('MATIH_CA_CERT')}
network.ca_key_file = {e('MATIH_CA_KEY')}
network.certs_dir = {work}/certs
billing.database_url = {db_url}
notify.database_url = {db_url}
notify.smtp_url = {e('MATIH_SMTP_URL')}
notify.from = MATIH chaos <welcome@matih.example>
notify.invite_url = https://app.matih.example/invite
notify.mailbox_api_url = {e('MATIH_MAILDEV_URL')}
observability.prometheus_url = {e('MATIH_PROMETHEUS_URL')}
observability.targets_dir = {e('MATIH_PROMETHEUS_TARGETS_DIR')}
observability.rules_dir = {e('MATIH_PROMETHEUS_RULES_DIR')}
terraform.database_url = {db_url}?sslmode=disable
terraform.modules_dir = {ROOT}/config/terraform/local
terraform.work_dir = {work}/terraform
terraform.lock_ttl_seconds = {TERRAFORM_LOCK_TTL}
services.values_schema_dir = {ROOT}/config/services
services.parent_zone = {zone}
"""
    path = os.path.join(work, "runner.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def http_json(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read().decode())


def count_duplicates(db, env, work, slug, admin_email, tier):
    """{target: (duplicates, missing, detail)} for one tenant, from the real targets."""
    out = {}
    q = db.q
    tid = q(f"SELECT id FROM control_plane.tenants WHERE slug = '{slug}' LIMIT 1", check=False) or ""
    n = int(q(f"SELECT count(*) FROM control_plane.tenants WHERE slug = '{slug}'"))
    dup = max(0, n - 1)
    detail = {"tenants": n}
    if tid:
        for table, key in (("users", "email"), ("roles", "name"), ("api_keys", "name")):
            rows = int(q(f"SELECT count(*) FROM control_plane.{table} WHERE tenant_id = '{tid}'"))
            d = int(q(f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM control_plane.{table} "
                      f"WHERE tenant_id = '{tid}' GROUP BY {key}) x"))
            detail[table] = rows
            dup += d
    out["control_plane"] = (dup, int(n == 0), detail)
    # git: files of the tenant added more than once, on the shared remote and on the remote of
    # the tenant's dedicated cluster (step outputs target.gitops.remote; dedicated tiers).
    remotes = [f"{work}/gitops-remote.git"] + (q(
        "SELECT string_agg(DISTINCT s.outputs->>'target.gitops.remote', ' ') FROM matih.tenant_steps s "
        f"JOIN matih.tenants t ON t.id = s.tenant_id WHERE t.slug = '{slug}' AND s.outputs ? 'target.gitops.remote'")
        or "").split()
    added, everything = collections.Counter(), 0
    for remote in remotes:
        log = subprocess.run(["git", "-C", remote, "log", "--all", "--diff-filter=A", "--name-only", "--format="],
                             capture_output=True, text=True)
        paths = [p for p in log.stdout.split("\n") if p]
        everything += len(paths)
        added.update(f"{remote}:{p}" for p in paths if slug in p or remote != remotes[0])
    out["git"] = (sum(c - 1 for c in added.values()), int(not added),
                  {"remotes": len(remotes), "files": len(added),
                   "added_twice": [p for p, c in added.items() if c > 1][:5], "remote_files_added": everything})
    # DNS: PowerDNS zones named for the tenant.
    zones = http_json(f"{env['MATIH_POWERDNS_API_URL']}/api/v1/servers/localhost/zones",
                      {"X-API-Key": env["MATIH_POWERDNS_API_KEY"]})
    mine = [z["name"] for z in zones if z["name"].startswith(f"{slug}.")]
    out["dns"] = (max(0, len(mine) - 1), int(not mine), {"zones": mine})
    # E-mail: welcome mails to the tenant's admin in MailDev.
    mails = http_json(f"{env['MATIH_MAILDEV_URL']}/email")
    to_admin = [m for m in mails if any(t.get("address", "").lower() == admin_email for t in m.get("to", []))]
    out["email"] = (max(0, len(to_admin) - 1), int(not to_admin), {"emails": len(to_admin)})
    # Identity: clients at the stack's OIDC provider per unique name of the tenant (our launcher keeps
    # one JSON file per client under var/oidc/data/Client; plugins/identity names each client
    # matih/<secret>/<slug> in its metadata matih_registration_key).
    clients = collections.Counter()
    client_dir = os.path.join(ROOT, "var", "oidc", "data", "Client")
    for name in os.listdir(client_dir) if os.path.isdir(client_dir) else []:
        if name.startswith("record-"):
            try:
                with open(os.path.join(client_dir, name)) as f:
                    key = (json.load(f).get("payload") or {}).get("matih_registration_key", "")
            except (OSError, ValueError):
                continue  # removed meanwhile
            if key.endswith(f"/{slug}"):
                clients[key] += 1
    out["identity"] = (sum(c - 1 for c in clients.values()), int(not clients), {"clients": dict(clients)})
    # Terraform: one state row per workspace of the tenant, in each state schema.
    if tier in ("professional", "enterprise"):
        schemas = (q("SELECT string_agg(table_schema, ' ') FROM information_schema.tables "
                     "WHERE table_schema LIKE 'matih_tfstate%' AND table_name = 'states'") or "").split()
        states, dup, serials = 0, 0, {}
        for s in schemas:
            rows = q(f"SELECT name || '|' || (convert_from(data::bytea, 'UTF8')::json->>'serial') FROM {s}.states "
                     f"WHERE name LIKE '%{slug}%'", check=False)
            if rows is None:
                rows = q(f"SELECT name || '|' || (data::json->>'serial') FROM {s}.states WHERE name LIKE '%{slug}%'",
                         check=False) or ""
            names = collections.Counter()
            for line in rows.splitlines():
                name, _, serial = line.partition("|")
                names[name] += 1
                serials[f"{s}/{name}"] = serial
            states += sum(names.values())
            dup += sum(c - 1 for c in names.values())
        out["terraform"] = (dup, int(states == 0), {"workspaces": states, "serials": serials})
    return out


def attack_tenant(r, db, build, work, slug, tier, targets, details):
    """Kills the runner at each target step; returns the per-tenant record."""
    poll = PsqlSession(db.url)
    hits, passed, exits, repairs = [], [], [], []
    refusals = 0
    names = {s["number"]: s["name"] for s in targets}
    remaining = [s["number"] for s in targets]
    proc = None
    try:
        while remaining:
            if proc is None:
                # The previous runner's lease first (it was killed holding it), and the tenant due.
                wait_until("the dead runner's lease to run out and the tenant to be due", lambda: poll.q(
                    "SELECT coalesce(lease_expires_at < now(), true) AND next_attempt_at <= now() "
                    f"FROM matih.tenants WHERE slug = '{slug}'") == "t", within=TERRAFORM_LOCK_TTL + 60, every=0.05)
                proc = r.spawn(["run", "--tenant", slug], os.path.join(work, f"{slug}.log"))
            want = ",".join(map(str, remaining))
            row = poll.q("SELECT coalesce(string_agg(s.step_number || ':' || s.status, ','), '') || '|' || t.status "
                         "FROM matih.tenants t LEFT JOIN matih.tenant_steps s ON s.tenant_id = t.id "
                         f"AND s.step_number IN ({want}) WHERE t.slug = '{slug}' GROUP BY t.status")
            steps_part, _, tenant_status = row.partition("|")
            status = dict(x.split(":") for x in steps_part.split(",") if x)
            running = [n for n in remaining if status.get(str(n)) == "RUNNING"]
            if running:
                n = running[0]
                workers = kill_group(proc)
                exits.append(proc.returncode)
                proc = None
                hits.append({"step": n, "name": names[n], "workers_killed": workers})
                i = remaining.index(n)
                passed += remaining[:i]
                remaining = remaining[i + 1:]
                say(f"  {slug}: SIGKILL in step {n} {names[n]} ({workers} worker group(s))")
                continue
            done = [n for n in remaining if status.get(str(n)) in ("DONE", "SKIPPED")]
            if done:
                last = max(remaining.index(n) for n in done)
                passed += remaining[:last + 1]
                remaining = remaining[last + 1:]
            if proc.poll() is not None:
                exits.append(proc.returncode)
                proc = None
                if tenant_status == "ACTIVE":
                    passed += remaining
                    remaining = []
                elif tenant_status in ("FAILED", "ROLLED_BACK"):
                    # A known open fault: repaired as an operator would (stale locks removed,
                    # `retry`), recorded, and the attack goes on over the later steps.
                    err = db.q(f"SELECT coalesce(last_error, '') FROM matih.tenants WHERE slug = '{slug}'")
                    known = [t for p, t in KNOWN_FAULTS if p in err]
                    if not known or len(repairs) >= 3:
                        break
                    repair_gitops(work)
                    repairs.append({"after_step": hits[-1]["step"] if hits else None, "title": known[0],
                                    "retry_exit": r.run(["retry", slug]).returncode})
                    say(f"  {slug}: known fault hit ({err[:90]}...): repaired, retried")
                elif exit_kind(exits[-1]) != "ok":
                    refusals += 1  # e.g. exit 2: not claimable yet; tried again, a few times
                    if refusals > 10:
                        break
            time.sleep(0.002)
        if proc is not None:
            proc.wait(timeout=600)
            exits.append(proc.returncode)
            proc = None
        # Converge: runs until ACTIVE.
        finals = []
        for _ in range(12):
            if db.q(f"SELECT status FROM matih.tenants WHERE slug = '{slug}'") in ("ACTIVE", "FAILED", "ROLLED_BACK"):
                break
            wait_until("the lease to run out", lambda: poll.q(
                f"SELECT coalesce(lease_expires_at < now(), true) FROM matih.tenants WHERE slug = '{slug}'") == "t",
                within=30, every=0.05)
            try:
                wait_until("the retry to be due", lambda: poll.q(
                    f"SELECT next_attempt_at <= now() FROM matih.tenants WHERE slug = '{slug}'") == "t",
                    within=TERRAFORM_LOCK_TTL + 60, every=0.1)
            except ChaosFailure as e:
                finals.append(str(e))
                break
            finals.append(r.run(["run", "--tenant", slug], timeout=900).returncode)
        status = db.q(f"SELECT status FROM matih.tenants WHERE slug = '{slug}'")
    finally:
        if proc is not None and proc.poll() is None:
            kill_group(proc)
        poll.close()
    return {"slug": slug, "tier": tier, "hits": hits, "repairs": repairs, "passed": [{"step": n, "name": names[n]} for n in passed],
            "killed_run_exits": exits, "final_run_exits": finals, "status": status,
            "last_error": db.q(f"SELECT coalesce(last_error, '') FROM matih.tenants WHERE slug = '{slug}'")[:400]}


def repair_gitops(work):
    """The operator's repair of the known faults: lock files a killed push or commit left in the
    repositories' refs/ and objects/ (local and remote, shared and dedicated) are removed."""
    for top in [os.path.join(work, "gitops", ".git"), os.path.join(work, "gitops-remote.git"),
                os.path.join(work, "terraform", "local", "clusters")]:
        for dirpath, _, files in os.walk(top):
            for f in files:
                path = os.path.join(dirpath, f)
                if f.endswith(".lock") and ("/refs/" in path or "/objects/" in path or f == "index.lock"):
                    say(f"sigkill: removing the stale lock file {path}")
                    os.remove(path)


def teardown(r, db, slugs, work):
    for _ in range(3):
        repair_gitops(work)
        left = [s for s in slugs if db.q(f"SELECT status FROM matih.tenants WHERE slug = '{s}'") not in
                ("DELETED", "PENDING_DELETION")]
        for s in left:
            r.run(["delete", s, "--grace", "0s"])
        r.run(["run", "--pending-only"], timeout=900)
        if db.q("SELECT count(*) FROM matih.tenants WHERE status <> 'DELETED'") == "0":
            return True
    return False


def run(build, env, form):
    if not shutil.which("terraform"):
        raise ChaosFailure("terraform is not on the PATH (professional and enterprise flows need it)")
    with open(os.path.join(ROOT, "config", "catalog.yaml")) as f:
        catalog = yaml.safe_load(f)
    work = workdir("sigkill")
    db = ThrowawayDb(env["MATIH_PG_ADMIN_URL"], "chaos_sigkill")
    tag = "k" + secrets.token_hex(3)
    details = {"tenants": [], "targets": {}}
    ok = False
    runs = converged = dups = lost = crashes = 0
    r = None
    slugs = []
    try:
        write_key(os.path.join(work, "secret.key"))
        with open(os.open(os.path.join(work, "controlplane-hash.key"), os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(subprocess.run(["bash", "-c", "head -c 32 /dev/urandom | base64"], capture_output=True,
                                   text=True).stdout)
        subprocess.run(["git", "init", "-q", "--bare", f"{work}/gitops-remote.git"], check=True)
        config = write_config(work, env, db.url, build)
        spec = {"display_name": "Chaos tenant", "services": ["query-engine", "bi-service"]}
        with open(os.path.join(work, "spec.json"), "w") as f:
            json.dump(spec, f)
        spec["quotas"] = {"cpu_requests": "32", "cpu_limits": "64", "memory_requests": "64Gi",
                          "memory_limits": "128Gi", "pvcs": 100, "services": 200}  # enterprise needs quotas
        with open(os.path.join(work, "spec-enterprise.json"), "w") as f:
            json.dump(spec, f)
        r = Runner(build, config, work)
        r.run(["migrate"], check=True)
        flows = os.environ.get("MATIH_CHAOS_FLOWS", " ".join(FLOWS)).split()  # to rerun one flow
        t0 = time.monotonic()
        for tier in flows:
            steps = flow_steps(catalog, tier)
            targets = steps if form == "long" else [s for s in steps if s["number"] in SHORT_SAMPLE[tier]]
            if os.environ.get("MATIH_CHAOS_STEPS"):  # to rerun a few steps: "18,19,20"
                only = {int(n) for n in os.environ["MATIH_CHAOS_STEPS"].split(",")}
                targets = [s for s in steps if s["number"] in only]
            slug = f"{tag}-{tier[:3]}"
            slugs.append(slug)
            email = f"ops@{slug}.example.com"
            r.run(["tenants", "add", "--slug", slug, "--tier", tier, "--admin-email", email, "--spec",
                   os.path.join(work, "spec-enterprise.json" if tier == "enterprise" else "spec.json")], check=True)
            say(f"sigkill: {slug} ({tier}): {len(targets)} target step(s) of {len(steps)}")
            try:
                rec = attack_tenant(r, db, build, work, slug, tier, targets, details)
            except ChaosFailure as e:
                rec = {"slug": slug, "tier": tier, "hits": [], "passed": [], "killed_run_exits": [],
                       "final_run_exits": [], "status": db.q(f"SELECT status FROM matih.tenants WHERE slug = '{slug}'"),
                       "error": str(e), "last_error": ""}
            verify = r.run(["audit", "verify"], timeout=300)
            rec["audit_verify_exit"] = verify.returncode
            counts = count_duplicates(db, env, work, slug, email, tier)
            rec["targets"] = {k: {"duplicates": d, "missing": m, **info} for k, (d, m, info) in counts.items()}
            t_dups = sum(d for d, _, _ in counts.values())
            t_missing = sum(m for _, m, _ in counts.values())
            rec["missing"] = t_missing
            ok = rec["status"] == "ACTIVE" and verify.returncode == 0
            # A crash: a run that died of a signal we did not send, or an undocumented exit code.
            rec["crashes"] = sum(1 for c in rec["final_run_exits"] + rec["killed_run_exits"]
                                 if isinstance(c, int) and c not in (2, -9) and exit_kind(c) != "ok")
            known = [t for p, t in KNOWN_FAULTS if p in rec["last_error"]]
            if rec["status"] != "ACTIVE" and known:
                rec["known_fault"] = known[0]
            for k in ([{"title": known[0]}] if rec["status"] != "ACTIVE" and known else []) + rec.get("repairs", []):
                details.setdefault("known_faults", []).append({"slug": slug, "title": k["title"]})
            details["tenants"].append(rec)
            runs += len(rec["hits"])
            converged += len(rec["hits"]) if ok and t_dups == 0 and t_missing == 0 else 0
            dups += t_dups
            lost += t_missing + (0 if rec["status"] == "ACTIVE" else 1)
            crashes += rec["crashes"]
            say(f"sigkill: {slug} after {time.monotonic() - t0:.0f}s: {len(rec['hits'])} kills, {len(rec['passed'])} passed between polls; "
                f"{rec['status']}; audit verify {verify.returncode}; duplicates {t_dups}; missing {t_missing}; "
                f"{ {k: v['duplicates'] for k, v in rec['targets'].items()} }")
        hits = sum(len(t["hits"]) for t in details["tenants"])
        wanted = sum(len(t["hits"]) + len(t["passed"]) for t in details["tenants"])
        details["kills"] = hits
        details["targets_wanted"] = wanted
        unknown_lost = sum(1 for t in details["tenants"] if t["status"] != "ACTIVE" and "known_fault" not in t)
        # An ACTIVE tenant must have every object on the real targets: one missing is lost work.
        missing_active = [t["slug"] for t in details["tenants"] if t["status"] == "ACTIVE" and t.get("missing")]
        if missing_active:
            details["missing_on_active"] = missing_active
        ok = runs > 0 and dups == 0 and crashes == 0 and unknown_lost == 0 and not missing_active and all(
            t["status"] == "ACTIVE" or "known_fault" in t for t in details["tenants"])
        if ok and details.get("known_faults"):
            details["xfail"] = True  # held, except for the known open faults listed
            titles = collections.Counter(k["title"] for k in details["known_faults"])
            say("sigkill: expected failure (known open faults): " + "; ".join(
                f"{t} (hit {n} time(s))" for t, n in titles.items()))
        # The short form must actually kill mid-step: at least half of its sample.
        if form == "short" and hits * 2 < wanted:
            ok = False
            details["error"] = f"only {hits} of {wanted} target steps were caught RUNNING"
    finally:
        if r is not None and slugs:
            t1 = time.monotonic()
            details["teardown"] = teardown(r, db, slugs, work)
            say(f"sigkill: teardown {'done' if details['teardown'] else 'INCOMPLETE'} in {time.monotonic() - t1:.0f}s")
        if details.get("teardown", True):
            db.drop()
            shutil.rmtree(work, ignore_errors=True)
        else:
            # The stack's servers still hold tenants that refer to files of the folder (certificates
            # in nginx's config): keep both, as scripts/bench --real does.
            say(f"sigkill: teardown failed: kept database {db.name} and folder {work}; finish with "
                f"{build.bin} --config {work}/runner.conf run --pending-only")
    return {"runs": runs, "converged": converged, "duplicates": dups, "lost": lost, "crashes": crashes,
            "details": details, "ok": ok}
