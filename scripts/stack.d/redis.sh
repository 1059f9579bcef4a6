# Sourced by scripts/stack. Redis 7 (Debian redis-server) for step 22 (provision-cache): one ACL
# user per tenant, kept in an ACL file so the users survive a restart.
#
# The `default` user is switched off; the provisioner logs in as `matih-admin`, whose password is
# generated once into var/redis/admin.password (mode 600) and stored in the ACL file only as its
# SHA-256. Nothing is persisted but the ACL file (no RDB, no AOF): a restart keeps the users and
# loses the keys. Port offset 2.
SERVICES+=(redis)
PORT_REDIS=$((MATIH_PORT_BASE + 2))
REDIS_DIR="$VAR/redis"

redis_admin_password() { cat "$REDIS_DIR/admin.password"; }

svc_redis_start() {
  command -v redis-server >/dev/null || die "redis-server is not installed; run scripts/install-deps"
  mkdir -p "$REDIS_DIR"
  if [[ ! -s "$REDIS_DIR/admin.password" ]]; then
    (umask 077 && head -c 32 /dev/urandom | sha256sum | cut -c1-40 >"$REDIS_DIR/admin.password")
  fi
  # Users of earlier runs are kept; the admin line always carries the current password's hash.
  local hash
  hash=$(tr -d '\n' <"$REDIS_DIR/admin.password" | sha256sum | cut -d' ' -f1)
  [[ -s "$REDIS_DIR/users.acl" ]] || echo 'user default off resetkeys resetchannels -@all' >"$REDIS_DIR/users.acl"
  (umask 077 && { grep -v '^user matih-admin ' "$REDIS_DIR/users.acl" || true
                  printf 'user matih-admin on #%s ~* &* +@all\n' "$hash"; } >"$REDIS_DIR/users.acl.new")
  mv "$REDIS_DIR/users.acl.new" "$REDIS_DIR/users.acl"
  setsid redis-server --port "$PORT_REDIS" --bind 127.0.0.1 --save '' --appendonly no --dir "$REDIS_DIR" \
    --aclfile "$REDIS_DIR/users.acl" --logfile "$REDIS_DIR/log" >/dev/null 2>&1 </dev/null &
  echo $! >"$RUN/redis.pid"
}
svc_redis_ready() {
  [[ $(REDISCLI_AUTH=$(redis_admin_password) redis-cli --no-auth-warning --user matih-admin -h 127.0.0.1 \
    -p "$PORT_REDIS" ping 2>/dev/null) == PONG ]]
}
svc_redis_env() {
  echo "MATIH_REDIS_URL=redis://matih-admin@127.0.0.1:$PORT_REDIS"
  echo "MATIH_REDIS_PASSWORD_FILE=$REDIS_DIR/admin.password"
  echo "MATIH_REDIS_ACL_FILE=$REDIS_DIR/users.acl"
}
