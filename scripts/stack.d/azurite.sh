# Sourced by scripts/stack. Azurite (npm azurite, installed into var/node by
# `scripts/install-deps --node`): the Azure Storage emulator serving the Blob REST API for steps 14
# and 15 (plugins/storage). Port offset 7.
#
# Accounts are fixed when Azurite starts (AZURITE_ACCOUNTS). The first start generates their keys
# (64 random bytes, base64, as Azure's) into var/azurite/accounts (mode 600) and later starts reuse
# them; the data lives in var/azurite/data, so containers survive a restart of the stack.
# --silent: no access log. It would record every request URL with its query, SAS signatures
# included (Azure's own logs redact them); the secrets scan (tests/chaos) finds them there.
#   matihshared                           the shared account (FREE, STARTER tenants)
#   matihpool1 .. matihpool4              the pool of dedicated accounts (PROFESSIONAL, ENTERPRISE)
PORT_AZURITE=$((MATIH_PORT_BASE + 7))
AZURITE_DIR="$VAR/azurite"
AZURITE_BIN="$VAR/node/node_modules/.bin/azurite-blob"
AZURITE_SHARED_ACCOUNT=matihshared
AZURITE_POOL_ACCOUNTS=(matihpool1 matihpool2 matihpool3 matihpool4)
SERVICES+=(azurite)

# "name:key;name:key" for every account, generated once.
azurite_accounts() {
  local file="$AZURITE_DIR/accounts"
  if [[ ! -s "$file" ]]; then
    mkdir -p "$AZURITE_DIR"
    local name list=""
    for name in "$AZURITE_SHARED_ACCOUNT" "${AZURITE_POOL_ACCOUNTS[@]}"; do
      list+="${list:+;}$name:$(head -c 64 /dev/urandom | base64 -w0)"
    done
    (umask 077 && printf '%s\n' "$list" >"$file.tmp") && mv "$file.tmp" "$file"
  fi
  cat "$file"
}

svc_azurite_available() { [[ -x "$AZURITE_BIN" ]]; }
svc_azurite_why() { echo "npm azurite missing: run scripts/install-deps --node"; }
svc_azurite_start() {
  mkdir -p "$AZURITE_DIR/data"
  AZURITE_ACCOUNTS="$(azurite_accounts)" setsid "$AZURITE_BIN" --blobHost 127.0.0.1 --blobPort "$PORT_AZURITE" \
    --location "$AZURITE_DIR/data" --skipApiVersionCheck --disableTelemetry --silent \
    >"$AZURITE_DIR/log" 2>&1 </dev/null &
  echo $! >"$RUN/azurite.pid"
}
# Any HTTP answer (an anonymous request is refused with 4xx) means the server is up.
svc_azurite_ready() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_AZURITE/" | grep -q '^[1-5]'; }
svc_azurite_env() {
  local pool
  pool=$(IFS=,; echo "${AZURITE_POOL_ACCOUNTS[*]}")
  echo "MATIH_AZURITE_URL=http://127.0.0.1:$PORT_AZURITE"
  echo "MATIH_AZURITE_BLOB_ENDPOINT=http://127.0.0.1:$PORT_AZURITE/{account}"
  echo "MATIH_AZURITE_SHARED_ACCOUNT=$AZURITE_SHARED_ACCOUNT"
  echo "MATIH_AZURITE_POOL_ACCOUNTS=$pool"
  echo "MATIH_AZURITE_ACCOUNTS_FILE=$AZURITE_DIR/accounts"
}
