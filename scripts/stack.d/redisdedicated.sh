# Sourced by scripts/stack. A second Redis 7 standing for the cache of dedicated tenants: the
# local Terraform module of phase 7 hands it to the tenant as its own (data.dedicated.redis_url
# through the vault, data.dedicated.redis_password_file), so a tenant upgraded from FREE has its
# ACL user here and none left on the shared Redis. Same shape as redis.sh (an admin login
# matih-admin whose password is generated once into var/redis-dedicated/admin.password, users in
# an ACL file, nothing else persisted). Port offset 17.
SERVICES+=(redisdedicated)
PORT_REDIS_DEDICATED=$((MATIH_PORT_BASE + 17))
REDIS_DEDICATED_DIR="$VAR/redis-dedicated"

svc_redisdedicated_start() {
  command -v redis-server >/dev/null || die "redis-server is not installed; run scripts/install-deps"
  local dir="$REDIS_DEDICATED_DIR" hash
  mkdir -p "$dir"
  if [[ ! -s "$dir/admin.password" ]]; then
    (umask 077 && head -c 32 /dev/urandom | sha256sum | cut -c1-40 >"$dir/admin.password")
  fi
  hash=$(tr -d '\n' <"$dir/admin.password" | sha256sum | cut -d' ' -f1)
  [[ -s "$dir/users.acl" ]] || echo 'user default off resetkeys resetchannels -@all' >"$dir/users.acl"
  (umask 077 && { grep -v '^user matih-admin ' "$dir/users.acl" || true
                  printf 'user matih-admin on #%s ~* &* +@all\n' "$hash"; } >"$dir/users.acl.new")
  mv "$dir/users.acl.new" "$dir/users.acl"
  setsid redis-server --port "$PORT_REDIS_DEDICATED" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --aclfile "$dir/users.acl" --logfile "$dir/log" >/dev/null 2>&1 </dev/null &
  echo $! >"$RUN/redisdedicated.pid"
}
svc_redisdedicated_ready() {
  [[ $(REDISCLI_AUTH=$(cat "$REDIS_DEDICATED_DIR/admin.password") redis-cli --no-auth-warning --user matih-admin \
    -h 127.0.0.1 -p "$PORT_REDIS_DEDICATED" ping 2>/dev/null) == PONG ]]
}
svc_redisdedicated_env() {
  echo "MATIH_REDIS_DEDICATED_URL=redis://matih-admin@127.0.0.1:$PORT_REDIS_DEDICATED"
  echo "MATIH_REDIS_DEDICATED_PASSWORD_FILE=$REDIS_DEDICATED_DIR/admin.password"
}
