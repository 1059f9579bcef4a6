# Sourced by scripts/stack. Prometheus 2.42 (apt prometheus), the local monitoring target of steps
# 43-44: it discovers scrape targets from per-tenant files in var/prometheus/targets/*.json
# (file_sd, re-read every second and on change) and loads per-tenant rule files from
# var/prometheus/rules/*.yml; the lifecycle API is on, so POST /-/reload reloads the rules.
# Offset 14.
PORT_PROMETHEUS=$((MATIH_PORT_BASE + 14))
SERVICES+=(prometheus)

svc_prometheus_available() { command -v prometheus >/dev/null && command -v promtool >/dev/null; }
svc_prometheus_why() { echo "prometheus/promtool not installed: run scripts/install-deps (apt prometheus)"; }
svc_prometheus_start() {
  local dir="$VAR/prometheus"
  mkdir -p "$dir/targets" "$dir/rules" "$dir/data"
  cat >"$dir/prometheus.yml" <<YAML
# written by scripts/stack (stack.d/prometheus.sh)
global:
  scrape_interval: 15s
  evaluation_interval: 15s
rule_files:
  - $dir/rules/*.yml
scrape_configs:
  - job_name: tenant-services
    file_sd_configs:
      - files: ["$dir/targets/*.json"]
        refresh_interval: 1s
YAML
  setsid prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$PORT_PROMETHEUS" --web.enable-lifecycle \
    >"$dir/log" 2>&1 </dev/null &
  echo $! >"$RUN/prometheus.pid"
}
svc_prometheus_ready() { curl -sf "http://127.0.0.1:$PORT_PROMETHEUS/-/ready"; }
svc_prometheus_env() {
  echo "MATIH_PROMETHEUS_URL=http://127.0.0.1:$PORT_PROMETHEUS"
  echo "MATIH_PROMETHEUS_TARGETS_DIR=$VAR/prometheus/targets"
  echo "MATIH_PROMETHEUS_RULES_DIR=$VAR/prometheus/rules"
}
