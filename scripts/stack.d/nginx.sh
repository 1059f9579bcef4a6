# Sourced by scripts/stack. nginx 1.22 as the local tenants' ingress (steps 40, 42, 56): HTTPS on
# 127.0.0.1:(base+12), HTTP on 127.0.0.1:(base+13), run with its own prefix var/nginx (never
# /etc/nginx). nginx.conf includes var/nginx/tenants/*.conf, one server per tenant written by
# step 40; step 42 adds each tenant's TLS listener. Default servers answer 404 on HTTP and refuse
# the TLS handshake for unknown names, so no tenant's server answers another tenant's names.
# The pid file is named in nginx.conf, so `nginx -p DIR -c DIR/nginx.conf -s reload` finds it.
#
# The stack's local certificate authority lives here too: var/ca/ca.key (mode 0600) and the
# self-signed var/ca/ca.crt, created once with the openssl CLI. Step 42 issues the tenants' leaf
# certificates from it; clients verify against ca.crt.
PORT_NGINX_HTTPS=$((MATIH_PORT_BASE + 12))
PORT_NGINX_HTTP=$((MATIH_PORT_BASE + 13))
NGINX_DIR="$VAR/nginx"
CA_DIR="$VAR/ca"
SERVICES+=(nginx)

svc_nginx_available() { command -v nginx >/dev/null && command -v openssl >/dev/null; }
svc_nginx_why() { echo "nginx or openssl is not installed"; }

ca_create() {
  mkdir -p "$CA_DIR"
  chmod 700 "$CA_DIR"
  if [[ ! -s "$CA_DIR/ca.key" || ! -s "$CA_DIR/ca.crt" ]]; then
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$CA_DIR/ca.key" 2>"$CA_DIR/log") \
      || die "could not create the local CA key; see $CA_DIR/log"
    openssl req -x509 -new -key "$CA_DIR/ca.key" -sha256 -days 3650 -subj "/O=MATIH local stack/CN=MATIH local CA" \
      -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out "$CA_DIR/ca.crt" 2>>"$CA_DIR/log" || die "could not create the local CA certificate; see $CA_DIR/log"
  fi
  chmod 600 "$CA_DIR/ca.key"
  chmod 644 "$CA_DIR/ca.crt"
}

svc_nginx_start() {
  ca_create
  local dir="$NGINX_DIR"
  mkdir -p "$dir/tenants" "$dir/logs" "$dir/tmp"
  cat >"$dir/nginx.conf.tmp" <<CONF
# Written by scripts/stack (stack.d/nginx.sh). Tenants' servers: tenants/*.conf (steps 40 and 42).
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log $dir/logs/access.log;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  server_names_hash_bucket_size 128;
  server {
    listen 127.0.0.1:$PORT_NGINX_HTTP default_server;
    return 404;
  }
  server {
    listen 127.0.0.1:$PORT_NGINX_HTTPS ssl default_server;
    ssl_reject_handshake on;
  }
  include $dir/tenants/*.conf;
}
CONF
  mv "$dir/nginx.conf.tmp" "$dir/nginx.conf"
  nginx -t -q -p "$dir" -c "$dir/nginx.conf" >"$dir/start.log" 2>&1 \
    || die "nginx refused its configuration; see $dir/start.log"
  setsid nginx -p "$dir" -c "$dir/nginx.conf" -g "daemon off;" >>"$dir/start.log" 2>&1 </dev/null &
  echo $! >"$RUN/nginx.pid"
}
svc_nginx_ready() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_NGINX_HTTP/" | grep -q 404; }
svc_nginx_env() {
  echo "MATIH_NGINX_PREFIX=$NGINX_DIR"
  echo "MATIH_NGINX_HTTPS_PORT=$PORT_NGINX_HTTPS"
  echo "MATIH_NGINX_HTTP_PORT=$PORT_NGINX_HTTP"
  echo "MATIH_CA_CERT=$CA_DIR/ca.crt"
  echo "MATIH_CA_KEY=$CA_DIR/ca.key"
}
