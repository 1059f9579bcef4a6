# Sourced by scripts/stack. Chroma, the vector store of step 23 (plugins/vector): npm
# chromadb@3.0.14 installed into var/node, with chromadb-js-bindings-linux-x64-gnu pinned to 1.0.5
# through an `overrides` entry of var/node/package.json (newer bindings need glibc 2.38). Port
# offset 11; data in var/chroma/data, so tenants survive a restart. chroma_start, chroma_ready and
# chroma_stop serve chromadedicated.sh too.
PORT_CHROMA=$((MATIH_PORT_BASE + 11))
CHROMA_DIR="$VAR/chroma"
CHROMA_BIN="$VAR/node/node_modules/.bin/chroma"
SERVICES+=(chroma)

chroma_start() {  # chroma_start <service> <port> <dir>
  mkdir -p "$3/data"
  setsid "$CHROMA_BIN" run --path "$3/data" --host 127.0.0.1 --port "$2" >"$3/log" 2>&1 </dev/null &
  echo $! >"$RUN/$1.pid"
}
chroma_ready() { curl -sf "http://127.0.0.1:$1/api/v2/heartbeat"; }
# Chroma takes a few seconds to stop on SIGTERM; SIGINT is quicker.
chroma_stop() {  # chroma_stop <service>
  if pid_alive "$RUN/$1.pid"; then
    local pid; pid=$(cat "$RUN/$1.pid")
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
}

svc_chroma_available() { [[ -x "$CHROMA_BIN" ]]; }
svc_chroma_why() { echo "npm chromadb@3.0.14 missing in var/node (about 418 MB; see scripts/stack.d/chroma.sh)"; }
svc_chroma_start() { chroma_start chroma "$PORT_CHROMA" "$CHROMA_DIR"; }
svc_chroma_ready() { chroma_ready "$PORT_CHROMA"; }
svc_chroma_stop() { chroma_stop chroma; }
svc_chroma_env() { echo "MATIH_CHROMA_URL=http://127.0.0.1:$PORT_CHROMA"; }
