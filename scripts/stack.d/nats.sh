# Sourced by scripts/stack. NATS 2.9 with JetStream (Debian nats-server): per-tenant streams of
# step 25 (create-message-topics); other plugins may use it too (read MATIH_NATS_URL). No
# authentication on loopback. Stream data under var/nats. Port offsets 5 (client), 6 (monitoring).
# nats_start and nats_ready serve natsdedicated.sh too.
SERVICES+=(nats)
PORT_NATS=$((MATIH_PORT_BASE + 5))
PORT_NATS_MONITOR=$((MATIH_PORT_BASE + 6))

nats_start() {  # nats_start <service> <client port> <monitoring port> <data dir>
  command -v nats-server >/dev/null || die "nats-server is not installed; run scripts/install-deps"
  mkdir -p "$4"
  setsid nats-server -a 127.0.0.1 -p "$2" -m "$3" -js -sd "$4" >"$4/log" 2>&1 </dev/null &
  echo $! >"$RUN/$1.pid"
}
nats_ready() { curl -sf "http://127.0.0.1:$1/healthz?js-enabled-only=true"; }

svc_nats_start() { nats_start nats "$PORT_NATS" "$PORT_NATS_MONITOR" "$VAR/nats"; }
svc_nats_ready() { nats_ready "$PORT_NATS_MONITOR"; }
svc_nats_env() {
  echo "MATIH_NATS_URL=nats://127.0.0.1:$PORT_NATS"
  echo "MATIH_NATS_MONITOR_URL=http://127.0.0.1:$PORT_NATS_MONITOR"
}
