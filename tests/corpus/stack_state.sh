#!/usr/bin/env bash
# tests/corpus/stack_state.sh - one line per piece of state on the local stack: "<name> <sha256>".
#
# The corpus driver (corpus_driver.cc) runs it after every case and compares with the line set
# taken before, so a bad input that changed anything anywhere is named by what it changed. It
# reads var/stack.env (the stack of this checkout) and never writes. Covered:
#   pg, pg:<db>       the databases and roles of the stack's PostgreSQL (and the dedicated one),
#                     and a pg_dump of each database (left out with MATIH_STATE_NO_PG=1: the
#                     corpus driver reads the databases itself, per case, over open connections)
#   git:<repo>        every ref of every git repository under var/ and of MATIH_CORPUS_GIT_DIRS
#   redis, redis-dedicated   DBSIZE, every key and every ACL user
#   powerdns          the zone list with serials (a record change bumps the serial)
#   azurite:<account> the container list of each account (signed List Containers request)
#   nats              the JetStream streams and consumers
#   chroma            tenants, databases and collections (its sqlite file, read-only)
#   maildev           the ids of the e-mails received
#   files:<dir>       names, sizes and contents of the Prometheus target and rule folders, the
#                     nginx configuration, and MATIH_CORPUS_FILE_DIRS (the corpus's test targets)
#   --raw             prints the state itself instead of its checksum (to see what changed)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
raw=0
[[ ${1:-} == --raw ]] && raw=1
[[ -s "$ROOT/var/stack.env" ]] || { echo "stack_state: no var/stack.env: start the stack (scripts/stack up)" >&2; exit 2; }
set -a
# shellcheck disable=SC1091
source "$ROOT/var/stack.env"
set +a

emit() {  # emit <name>: stdin is the state
  if ((raw)); then
    printf '=== %s\n' "$1"
    cat
  else
    printf '%s %s\n' "$1" "$(sha256sum | cut -c1-64)"
  fi
}

pg_all() {  # pg_all <admin url> <label>
  local url=$1 label=$2 db base=${1%/*} cluster dbs
  cluster=$(psql -XAtq -d "$url" -c "SELECT 'db ' || datname FROM pg_database WHERE datallowconn
    UNION ALL SELECT 'role ' || r::text FROM pg_roles r ORDER BY 1" 2>&1) ||
    { echo "unreachable: $cluster" | emit "$label"; return; }
  echo "$cluster" | emit "$label"  # the cluster: its databases and roles (with their attributes)
  dbs=$(sed -n 's/^db //p' <<<"$cluster")
  for db in $dbs; do
    pg_dump --no-comments -d "$base/$db" 2>&1 | grep -v '^-- Dumped\|^\\restrict\|^\\unrestrict' | emit "$label:$db" &
  done
  wait
}

# Every section runs at once (most of the time is waiting for servers), each into its own file.
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
section() { local name=$1; shift; "$@" >"$OUT/$name" 2>&1 & }

if [[ -z ${MATIH_STATE_NO_PG:-} ]]; then
  section 10-pg pg_all "$MATIH_PG_ADMIN_URL" pg
  [[ -n ${MATIH_PG_DEDICATED_ADMIN_URL:-} ]] && section 11-pgdedicated pg_all "$MATIH_PG_DEDICATED_ADMIN_URL" pgdedicated
fi

# Git remotes and repositories (the GitOps remotes of tests and of the demo live under var/).
git_all() {
  local gitdir
  while IFS= read -r gitdir; do
    [[ -n $gitdir ]] || continue
    git --git-dir "$gitdir" for-each-ref --format='%(refname) %(objectname)' 2>&1 | emit "git:${gitdir#"$ROOT"/}"
  done < <({
    find "$ROOT/var" -maxdepth 3 \( -name '*.git' -o -name .git \) -not -path '*/node/*' 2>/dev/null
    for d in ${MATIH_CORPUS_GIT_DIRS:-}; do echo "$d"; done
  } | sort -u)
}
section 20-git git_all

redis_state() {  # redis_state <url> <password file> <label>
  local hostport=${1##*@} pass
  pass=$(cat "$2" 2>/dev/null)
  {
    REDISCLI_AUTH=$pass redis-cli -h "${hostport%:*}" -p "${hostport##*:}" --user matih-admin DBSIZE
    REDISCLI_AUTH=$pass redis-cli -h "${hostport%:*}" -p "${hostport##*:}" --user matih-admin --scan | sort
    REDISCLI_AUTH=$pass redis-cli -h "${hostport%:*}" -p "${hostport##*:}" --user matih-admin ACL LIST
  } 2>&1 | emit "$3"
}
section 30-redis redis_state "$MATIH_REDIS_URL" "$MATIH_REDIS_PASSWORD_FILE" redis
[[ -n ${MATIH_REDIS_DEDICATED_URL:-} ]] &&
  section 31-redis-dedicated redis_state "$MATIH_REDIS_DEDICATED_URL" "$MATIH_REDIS_DEDICATED_PASSWORD_FILE" redis-dedicated

powerdns_state() {
  curl -sS -m 5 -H "X-API-Key: $MATIH_POWERDNS_API_KEY" "$MATIH_POWERDNS_API_URL/api/v1/servers/localhost/zones" 2>&1 |
    jq -c '[.[] | .name + " " + (.serial | tostring)] | sort' 2>&1 | emit powerdns
}
section 40-powerdns powerdns_state

# Azurite: List Containers per account, signed with the account key (SharedKey, path-style URL).
azurite_list() {  # azurite_list <account> <base64 key>
  local account=$1 key=$2 date version=2021-08-06 sts sig
  date=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
  sts=$(printf 'GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:%s\nx-ms-version:%s\n/%s/%s/\ncomp:list' \
    "$date" "$version" "$account" "$account")
  sig=$(printf '%s' "$sts" |
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(printf '%s' "$key" | base64 -d | xxd -p -c 256)" -binary |
    base64 -w0)
  curl -sS -m 5 -H "x-ms-date: $date" -H "x-ms-version: $version" \
    -H "Authorization: SharedKey $account:$sig" "$MATIH_AZURITE_URL/$account/?comp=list" 2>&1 |
    sed -n 's/.*<EnumerationResults[^>]*>.*/listed/p; s/<Name>/\n&/gp' | grep -o '^listed$\|<Name>[^<]*</Name>' | sort
}
azurite_all() {
  local account key
  while IFS=: read -r account key; do
    [[ -n $account ]] || continue
    azurite_list "$account" "$key" | emit "azurite:$account"
  done < <(tr ';' '\n' <"$MATIH_AZURITE_ACCOUNTS_FILE")
}
section 50-azurite azurite_all

nats_state() {
  curl -sS -m 5 "$MATIH_NATS_MONITOR_URL/jsz?streams=true&consumers=true" 2>&1 |
    jq -c '[.account_details[]? | .name as $a | .stream_detail[]? | $a + "/" + .name + " " +
            (.state.messages | tostring) + " " + ([.consumer_detail[]?.name] | sort | join(","))] | sort' 2>&1 |
    emit nats
}
section 60-nats nats_state

chroma_state() {
  sqlite3 -readonly "$ROOT/var/chroma/data/chroma.sqlite3" \
    "SELECT 't ' || id FROM tenants ORDER BY 1; SELECT 'd ' || tenant_id || '/' || name FROM databases ORDER BY 1;
     SELECT 'c ' || database_id || '/' || name FROM collections ORDER BY 1;" 2>&1 | emit chroma
}
[[ -f "$ROOT/var/chroma/data/chroma.sqlite3" ]] && section 70-chroma chroma_state

maildev_state() { curl -sS -m 5 "$MATIH_MAILDEV_URL/email" 2>&1 | jq -c '[.[].id] | sort' 2>&1 | emit maildev; }
[[ -n ${MATIH_MAILDEV_URL:-} ]] && section 80-maildev maildev_state

files_state() {  # files_state <dir>: names and contents (a missing folder is a state too)
  if [[ -d $1 ]]; then
    (cd "$1" && find . \( -path ./logs -o -path ./tmp \) -prune -o -type f -not -name '*.pid' -not -name '*.log' \
      -print0 | sort -z | xargs -0r sha256sum) 2>&1
  else
    echo "absent"
  fi | emit "files:${1#"$ROOT"/}"
}
files_all() {
  local d
  for d in "${MATIH_PROMETHEUS_TARGETS_DIR:-}" "${MATIH_PROMETHEUS_RULES_DIR:-}" "${MATIH_NGINX_PREFIX:-}" \
    ${MATIH_CORPUS_FILE_DIRS:-}; do
    [[ -n $d ]] && files_state "$d"
  done
}
section 90-files files_all

wait
cat "$OUT"/*
exit 0
