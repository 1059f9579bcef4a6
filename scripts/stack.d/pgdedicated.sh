# Sourced by scripts/stack. A second PostgreSQL 15 server standing for the database server of
# dedicated tenants (PROFESSIONAL, ENTERPRISE): the local Terraform module of phase 7 hands it to
# the tenant as its own data target (data.dedicated.database_url, through the vault), so a tenant
# upgraded from FREE has its database here and nothing left on the shared server. Port offset 16.
# The cluster sits beside the main one (var/postgres-dedicated, or next to the folder var/postgres
# links to), trust authentication on loopback like the main one.
SERVICES+=(pgdedicated)
PORT_PG_DEDICATED=$((MATIH_PORT_BASE + 16))

pgdedicated_dir() { printf '%s-dedicated' "$PG_DIR"; }

svc_pgdedicated_start() {
  local dir
  dir=$(pgdedicated_dir)
  [[ -x "$PG_BIN/initdb" ]] || die "PostgreSQL 15 is not installed ($PG_BIN/initdb missing); run scripts/install-deps"
  mkdir -p "$dir"
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
    as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || die "initdb of the dedicated server failed; see $dir/initdb.log"
  fi
  mkdir -p "$dir/sock"
  if [[ $(id -u) -eq 0 ]]; then chown -R postgres: "$dir"; fi
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 \
    -o "-p $PORT_PG_DEDICATED -k $dir/sock -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=${MATIH_PG_FSYNC:-on}" \
    start >/dev/null || die "the dedicated PostgreSQL did not start; see $dir/log"
  head -1 "$dir/data/postmaster.pid" >"$RUN/pgdedicated.pid"
}
svc_pgdedicated_ready() { "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PORT_PG_DEDICATED" -q; }
svc_pgdedicated_stop() {
  local dir
  dir=$(pgdedicated_dir)
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
svc_pgdedicated_env() {
  echo "MATIH_PG_DEDICATED_PORT=$PORT_PG_DEDICATED"
  echo "MATIH_PG_DEDICATED_ADMIN_URL=postgresql://postgres@127.0.0.1:$PORT_PG_DEDICATED/postgres"
}
