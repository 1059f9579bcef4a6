# Sourced by scripts/stack. The OpenID Connect provider (npm oidc-provider@8.8.1 under our
# launcher scripts/oidc/server.mjs), port offset 10: the identity provider of plugins/identity
# (managed identities, workload federation grants, tenants' single sign-on clients, the service
# principal of dedicated infrastructure).
#
# Files under var/oidc/: data/ (clients, registration access tokens and tokens, one JSON file per
# record, so registrations survive a restart; Client/key-*.json map a client's unique name,
# metadata matih_registration_key, to its client_id: a registration under a live client's name
# gets that client back, see scripts/oidc/server.mjs), initial-access-token (protects Dynamic Client
# Registration; generated once, passed to the runner as the secret setting
# identity.initial_access_token), service-principal.json (the seeded service principal's
# client_id and client_secret), keys.json (signing keys), log.
PORT_OIDC=$((MATIH_PORT_BASE + 10))
OIDC_DIR="$VAR/oidc"
SERVICES+=(oidc)

svc_oidc_available() { command -v node >/dev/null && [[ -d "$VAR/node/node_modules/oidc-provider" ]]; }
svc_oidc_why() { echo "node or var/node/node_modules/oidc-provider missing; run scripts/install-deps --node"; }

oidc_random() { head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | head -c 43; }

svc_oidc_start() {
  mkdir -p "$OIDC_DIR/data"
  chmod 700 "$OIDC_DIR"
  local old_umask; old_umask=$(umask); umask 077
  [[ -s "$OIDC_DIR/initial-access-token" ]] || oidc_random >"$OIDC_DIR/initial-access-token"
  if [[ ! -s "$OIDC_DIR/service-principal.json" ]]; then
    printf '{"client_id":"matih-sp-%s","client_secret":"%s"}\n' "$(oidc_random | head -c 12)" "$(oidc_random)" \
      >"$OIDC_DIR/service-principal.json.tmp"
    mv "$OIDC_DIR/service-principal.json.tmp" "$OIDC_DIR/service-principal.json"
  fi
  umask "$old_umask"
  MATIH_NODE_MODULES="$VAR/node/node_modules" setsid node "$ROOT/scripts/oidc/server.mjs" --port "$PORT_OIDC" \
    --data "$OIDC_DIR/data" --initial-access-token-file "$OIDC_DIR/initial-access-token" \
    --service-principal-file "$OIDC_DIR/service-principal.json" --keys-file "$OIDC_DIR/keys.json" \
    >"$OIDC_DIR/log" 2>&1 </dev/null &
  echo $! >"$RUN/oidc.pid"
}
svc_oidc_ready() { curl -sf "http://127.0.0.1:$PORT_OIDC/.well-known/openid-configuration"; }
svc_oidc_env() {
  echo "MATIH_OIDC_URL=http://127.0.0.1:$PORT_OIDC"
  echo "MATIH_OIDC_INITIAL_ACCESS_TOKEN_FILE=$OIDC_DIR/initial-access-token"
  echo "MATIH_OIDC_SERVICE_PRINCIPAL_FILE=$OIDC_DIR/service-principal.json"
}
