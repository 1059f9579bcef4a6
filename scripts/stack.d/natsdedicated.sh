# Sourced by scripts/stack. A second NATS 2.9 with JetStream standing for the messaging server of
# dedicated tenants: the local Terraform module of phase 7 hands it to the tenant as its own
# (data.dedicated.nats_url, through the vault), so a tenant upgraded from FREE has its streams
# here and none left on the shared NATS. Same shape as nats.sh (no authentication on loopback);
# stream data under var/nats-dedicated. Port offsets 18 (client) and 15 (monitoring).
SERVICES+=(natsdedicated)
PORT_NATS_DEDICATED=$((MATIH_PORT_BASE + 18))
PORT_NATS_DEDICATED_MONITOR=$((MATIH_PORT_BASE + 15))

svc_natsdedicated_start() {
  nats_start natsdedicated "$PORT_NATS_DEDICATED" "$PORT_NATS_DEDICATED_MONITOR" "$VAR/nats-dedicated"
}
svc_natsdedicated_ready() { nats_ready "$PORT_NATS_DEDICATED_MONITOR"; }
svc_natsdedicated_env() {
  echo "MATIH_NATS_DEDICATED_URL=nats://127.0.0.1:$PORT_NATS_DEDICATED"
  echo "MATIH_NATS_DEDICATED_MONITOR_URL=http://127.0.0.1:$PORT_NATS_DEDICATED_MONITOR"
}
