# Sourced by scripts/stack. MailDev (npm maildev@2.2.1, installed into var/node by
# scripts/install-deps --node): an SMTP sink with a REST API, the local stand-in for the SMTP relay
# of step 55 (send-welcome-email). Offsets 8 (SMTP) and 9 (web/REST: GET /email, /healthz).
PORT_MAILDEV_SMTP=$((MATIH_PORT_BASE + 8))
PORT_MAILDEV_WEB=$((MATIH_PORT_BASE + 9))
MAILDEV_BIN="$ROOT/var/node/node_modules/.bin/maildev"
SERVICES+=(maildev)

svc_maildev_available() { [[ -x "$MAILDEV_BIN" ]]; }
svc_maildev_why() { echo "var/node has no maildev: run scripts/install-deps --node"; }
svc_maildev_start() {
  mkdir -p "$VAR/maildev/mail"
  setsid "$MAILDEV_BIN" --ip 127.0.0.1 --smtp "$PORT_MAILDEV_SMTP" --web-ip 127.0.0.1 --web "$PORT_MAILDEV_WEB" \
    --mail-directory "$VAR/maildev/mail" >"$VAR/maildev/log" 2>&1 </dev/null &
  echo $! >"$RUN/maildev.pid"
}
svc_maildev_ready() { curl -sf "http://127.0.0.1:$PORT_MAILDEV_WEB/healthz"; }
svc_maildev_env() {
  echo "MATIH_SMTP_URL=smtp://127.0.0.1:$PORT_MAILDEV_SMTP"
  echo "MATIH_MAILDEV_URL=http://127.0.0.1:$PORT_MAILDEV_WEB"
}
