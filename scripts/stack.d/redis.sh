# Sourced by scripts/stack. Redis 7 (Debian redis-server) for step 22 (provision-cache): one ACL
# user per tenant, kept in an ACL file so the users survive a restart.
#
# The `default` user is switched off; the provisioner logs in as `matih-admin`, whose password is
# generated once into var/redis/admin.password (mode 600) and stored in the ACL file only as its
# SHA-256. Nothing is persisted but the ACL file (no RDB, no AOF): a restart keeps the users and
# loses the keys. Port offset 2. redis_start and redis_ready serve redisdedicated.sh too.
SERVICES+=(redis)
PORT_REDIS=$((MATIH_PORT_BASE + 2))
REDIS_DIR="$VAR/redis"

redis_start() {  # redis_start <service> <port> <dir>
  command -v redis-server >/dev/null || die "redis-server is not installed; run scripts/install-deps"
  local dir=$3 hash
  mkdir -p "$dir"
  if [[ ! -s "$dir/admin.password" ]]; then
    (umask 077 && head -c 32 /dev/urandom | sha256sum | cut -c1-40 >"$dir/admin.password")
  fi
  # Users of earlier runs are kept; the admin line always carries the current password's hash.
  hash=$(tr -d '\n' <"$dir/admin.password" | sha256sum | cut -d' ' -f1)
  [[ -s "$dir/users.acl" ]] || echo 'user default off resetkeys resetchannels -@all' >"$dir/users.acl"
  (umask 077 && { grep -v '^user matih-admin ' "$dir/users.acl" || true
                  printf 'user matih-admin on #%s ~* &* +@all\n' "$hash"; } >"$dir/users.acl.new")
  mv "$dir/users.acl.new" "$dir/users.acl"
  setsid redis-server --port "$2" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --aclfile "$dir/users.acl" --logfile "$dir/log" >/dev/null 2>&1 </dev/null &
  echo $! >"$RUN/$1.pid"
}
redis_ready() {  # redis_ready <port> <dir>
  [[ $(REDISCLI_AUTH=$(cat "$2/admin.password") redis-cli --no-auth-warning --user matih-admin -h 127.0.0.1 \
    -p "$1" ping 2>/dev/null) == PONG ]]
}

svc_redis_start() { redis_start redis "$PORT_REDIS" "$REDIS_DIR"; }
svc_redis_ready() { redis_ready "$PORT_REDIS" "$REDIS_DIR"; }
svc_redis_env() {
  echo "MATIH_REDIS_URL=redis://matih-admin@127.0.0.1:$PORT_REDIS"
  echo "MATIH_REDIS_PASSWORD_FILE=$REDIS_DIR/admin.password"
  echo "MATIH_REDIS_ACL_FILE=$REDIS_DIR/users.acl"
}
