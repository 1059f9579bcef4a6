#!/usr/bin/env bash
# The package's promise about the secret-store key, end to end: the postinst of the built .deb,
# run into a scratch root (DPKG_ROOT), makes a key the runner accepts (64 hex characters, owned
# by matih, mode 0600), never touches it again, and the service's own command, run as the matih
# user with the packaged config, gets through `migrate` and one `run`.
#   check_postinst.sh <folder holding the .deb>
# Needs root (it creates the matih system user, as the package does) and the stack's PostgreSQL.
# The scratch root goes under /tmp, which the matih user can reach whatever the checkout's folder.
set -euo pipefail
debs=$1
[[ $(id -u) -eq 0 ]] || { echo "SKIPPED: needs root (the postinst creates the matih system user)"; exit 77; }
for tool in dpkg-deb runuser adduser psql; do
  command -v "$tool" >/dev/null || { echo "SKIPPED: $tool is not installed"; exit 77; }
done
[[ -n "${MATIH_PG_ADMIN_URL:-}" ]] || { echo "SKIPPED: no stack (MATIH_PG_ADMIN_URL unset)"; exit 77; }
deb=$(ls "$debs"/matih-provisioner_*.deb 2>/dev/null | head -1)
[[ -n "$deb" ]] || { echo "FAIL: no matih-provisioner_*.deb in $debs (packaging.deb builds it)"; exit 1; }

fail() { echo "FAIL: $*"; exit 1; }
scratch=$(mktemp -d /tmp/matih-postinst.XXXXXX)
chmod 755 "$scratch"
db=""
cleanup() {
  [[ -z "$db" ]] || psql -q "$MATIH_PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT
root="$scratch/root"
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$scratch/control"
key="$root/etc/matih-provisioner/secret.key"
[[ ! -e "$key" ]] || fail "the package ships a key; every installation would share it"

DPKG_ROOT="$root" sh "$scratch/control/postinst" configure
[[ -f "$key" ]] || fail "postinst made no key"
grep -qxE '[0-9a-f]{64}' "$key" || fail "the key is not 64 hex characters"
[[ $(stat -c '%U:%G %a' "$key") == "matih:matih 600" ]] || fail "key is $(stat -c '%U:%G %a' "$key"), not matih:matih 600"
echo "ok: postinst made the key: 64 hex characters, matih:matih, mode 0600"
before=$(sha256sum "$key")
touch -d '2001-01-01' "$key"
DPKG_ROOT="$root" sh "$scratch/control/postinst" configure
[[ $(sha256sum "$key") == "$before" && $(stat -c '%Y' "$key") == $(date -d '2001-01-01' +%s) ]] \
  || fail "a second configure touched the existing key"
echo "ok: a second configure leaves the key as it was"

# The service's command as the matih user, with the packaged config pointed into the scratch root.
runuser -u matih -- test -r "$key" || { echo "SKIPPED: matih cannot reach $scratch (a parent folder is closed)"; exit 77; }
db="matih_postinst_$$"
admin_base=${MATIH_PG_ADMIN_URL%/*}
psql -q "$MATIH_PG_ADMIN_URL" -c "CREATE DATABASE $db" >/dev/null
conf="$scratch/runner.conf"
sed -e "s|^dir = /usr/lib/|dir = $root/usr/lib/|" \
    -e "s|^file = /etc/|file = $root/etc/|" \
    -e "s|^key_file = /etc/|key_file = $root/etc/|" \
    -e "s|^# url = postgresql://.*|url = $admin_base/$db|" \
    "$root/etc/matih-provisioner/matih-provisioner.conf" >"$conf"
chmod 644 "$conf"
# With a service's clean environment: the caller's MATIH_* variables (the stack's, exported by
# scripts/test) must neither override the config file nor be judged as the runner's own.
for cmd in migrate run; do
  out=$(runuser -u matih -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$root/usr/bin/matih-provisioner" \
    --config "$conf" "$cmd" 2>&1) \
    || fail "matih-provisioner $cmd as matih: $out"
  echo "ok: matih-provisioner $cmd as matih with the packaged config and key"
done
