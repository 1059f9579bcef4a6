# Sourced by scripts/stack. PowerDNS 4.7 (authoritative, sqlite3 backend) for steps 41 and 56:
# DNS on 127.0.0.1:(base+3), HTTP API on 127.0.0.1:(base+4). Data and config in var/powerdns.
# Before the first start the parent zone of the tenants' zones (tenants.matih.test., with its
# name server ns1.tenants.matih.test. -> 127.0.0.1) is created with pdnsutil; the API key is
# generated once into var/powerdns/api-key (mode 0600) and written to var/stack.env for the tests
# and the demo, which pass it as the secret setting network.powerdns_api_key.
PORT_POWERDNS_DNS=$((MATIH_PORT_BASE + 3))
PORT_POWERDNS_API=$((MATIH_PORT_BASE + 4))
POWERDNS_DIR="$VAR/powerdns"
POWERDNS_PARENT_ZONE=${MATIH_PARENT_ZONE:-tenants.matih.test.}
SERVICES+=(powerdns)

svc_powerdns_available() { command -v pdns_server >/dev/null && compgen -G "/usr/lib/*/pdns/libgsqlite3backend.so" >/dev/null; }
svc_powerdns_why() { echo "pdns-server or pdns-backend-sqlite3 is not installed"; }

svc_powerdns_start() {
  local dir="$POWERDNS_DIR"
  mkdir -p "$dir/sock"
  if [[ ! -s "$dir/api-key" ]]; then
    (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/api-key")
  fi
  chmod 600 "$dir/api-key"
  (umask 077 && cat >"$dir/pdns.conf" <<CONF
launch=gsqlite3
gsqlite3-database=$dir/pdns.sqlite3
api=yes
api-key=$(cat "$dir/api-key")
webserver=yes
webserver-address=127.0.0.1
webserver-port=$PORT_POWERDNS_API
webserver-allow-from=127.0.0.0/8
local-address=127.0.0.1
local-port=$PORT_POWERDNS_DNS
socket-dir=$dir/sock
daemon=no
guardian=no
disable-syslog=yes
loglevel=4
default-soa-content=ns1.${POWERDNS_PARENT_ZONE} hostmaster.${POWERDNS_PARENT_ZONE} 0 10800 3600 604800 300
allow-axfr-ips=127.0.0.0/8
disable-axfr=no
cache-ttl=0
negquery-cache-ttl=0
query-cache-ttl=0
zone-cache-refresh-interval=0
CONF
)
  if [[ ! -f "$dir/pdns.sqlite3" ]]; then
    sqlite3 "$dir/pdns.sqlite3" </usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql \
      || die "could not create the PowerDNS database"
  fi
  if ! pdnsutil --config-dir="$dir" list-zone "$POWERDNS_PARENT_ZONE" >/dev/null 2>&1; then
    pdnsutil --config-dir="$dir" create-zone "$POWERDNS_PARENT_ZONE" "ns1.$POWERDNS_PARENT_ZONE" >"$dir/setup.log" 2>&1 \
      || die "could not create the parent zone $POWERDNS_PARENT_ZONE; see $dir/setup.log"
    pdnsutil --config-dir="$dir" add-record "$POWERDNS_PARENT_ZONE" ns1 A 300 127.0.0.1 >>"$dir/setup.log" 2>&1 \
      || die "could not add ns1 to $POWERDNS_PARENT_ZONE; see $dir/setup.log"
    # API changes (the tenants' delegations) raise the parent's SOA serial, as secondaries need.
    pdnsutil --config-dir="$dir" set-meta "$POWERDNS_PARENT_ZONE" SOA-EDIT-API DEFAULT >>"$dir/setup.log" 2>&1 \
      || die "could not set SOA-EDIT-API on $POWERDNS_PARENT_ZONE; see $dir/setup.log"
  fi
  setsid pdns_server --config-dir="$dir" >"$dir/log" 2>&1 </dev/null &
  echo $! >"$RUN/powerdns.pid"
}
svc_powerdns_ready() {
  curl -sf -H "X-API-Key: $(cat "$POWERDNS_DIR/api-key")" "http://127.0.0.1:$PORT_POWERDNS_API/api/v1/servers/localhost" >/dev/null
}
svc_powerdns_env() {
  echo "MATIH_POWERDNS_API_URL=http://127.0.0.1:$PORT_POWERDNS_API"
  echo "MATIH_POWERDNS_API_KEY=$(cat "$POWERDNS_DIR/api-key")"
  echo "MATIH_POWERDNS_DNS=127.0.0.1:$PORT_POWERDNS_DNS"
  echo "MATIH_PARENT_ZONE=$POWERDNS_PARENT_ZONE"
}
