# Sourced by scripts/stack. NATS 2.9 with JetStream (Debian nats-server): per-tenant streams of
# step 25 (create-message-topics); other plugins may use it too (read MATIH_NATS_URL). No
# authentication on loopback. Stream data under var/nats. Port offsets 5 (client), 6 (monitoring).
SERVICES+=(nats)
PORT_NATS=$((MATIH_PORT_BASE + 5))
PORT_NATS_MONITOR=$((MATIH_PORT_BASE + 6))

svc_nats_start() {
  command -v nats-server >/dev/null || die "nats-server is not installed; run scripts/install-deps"
  mkdir -p "$VAR/nats"
  setsid nats-server -a 127.0.0.1 -p "$PORT_NATS" -m "$PORT_NATS_MONITOR" -js -sd "$VAR/nats" \
    >"$VAR/nats/log" 2>&1 </dev/null &
  echo $! >"$RUN/nats.pid"
}
svc_nats_ready() { curl -sf "http://127.0.0.1:$PORT_NATS_MONITOR/healthz?js-enabled-only=true"; }
svc_nats_env() {
  echo "MATIH_NATS_URL=nats://127.0.0.1:$PORT_NATS"
  echo "MATIH_NATS_MONITOR_URL=http://127.0.0.1:$PORT_NATS_MONITOR"
}
