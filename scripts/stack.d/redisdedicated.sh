# Sourced by scripts/stack. A second Redis 7 standing for the cache of dedicated tenants: the
# local Terraform module of phase 7 hands it to the tenant as its own (data.dedicated.redis_url,
# with the admin password in it, through the vault), so a tenant upgraded from FREE has its
# ACL user here and none left on the shared Redis. Started by redis.sh's redis_start (an admin
# login matih-admin whose password is generated once into var/redis-dedicated/admin.password,
# users in an ACL file, nothing else persisted). Port offset 17.
SERVICES+=(redisdedicated)
PORT_REDIS_DEDICATED=$((MATIH_PORT_BASE + 17))
REDIS_DEDICATED_DIR="$VAR/redis-dedicated"

svc_redisdedicated_start() { redis_start redisdedicated "$PORT_REDIS_DEDICATED" "$REDIS_DEDICATED_DIR"; }
svc_redisdedicated_ready() { redis_ready "$PORT_REDIS_DEDICATED" "$REDIS_DEDICATED_DIR"; }
svc_redisdedicated_env() {
  echo "MATIH_REDIS_DEDICATED_URL=redis://matih-admin@127.0.0.1:$PORT_REDIS_DEDICATED"
  echo "MATIH_REDIS_DEDICATED_PASSWORD_FILE=$REDIS_DEDICATED_DIR/admin.password"
}
