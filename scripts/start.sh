#!/usr/bin/env bash
# Starts the softswitch on this machine: local Redis and PostgreSQL (installed/started when
# missing), the embedded SIP edge (its own process), migrations, the SIP application, the ledger
# writer, the account API (its own process), a local mail capture (SMTP on loopback, mails saved
# under .data/mail) and a demo account. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
WANT_SIPP=0 WANT_LINPHONE=0 SOFTSWITCH_DATABASES=softswitch scripts/ensure-services.sh
. scripts/local-env.sh
export DEMO_SEED=${DEMO_SEED:-true}
# the local test payment provider: /order works in the browser and nobody is charged (refused in production)
export PAYMENT_PROVIDER=${PAYMENT_PROVIDER:-test}
export LOG_LEVEL=${LOG_LEVEL:-info}
export SIP_LISTEN=${SIP_LISTEN:-udp/127.0.0.1:5060,tcp/127.0.0.1:5060}
export DRACHTIO_PORT=${DRACHTIO_PORT:-9022}
# outgoing mail goes to the local capture unless an SMTP server is configured
MAIL_CAPTURE_PORT=${MAIL_CAPTURE_PORT:-2525}
if [ -z "${SMTP_HOST:-}" ]; then
  export SMTP_HOST=127.0.0.1 SMTP_PORT=$MAIL_CAPTURE_PORT SMTP_SECURITY=none
  node --import tsx scripts/mail-capture.ts "$MAIL_CAPTURE_PORT" .data/mail &
  mail_pid=$!
else
  mail_pid=
fi

# the SIP server runs in a session of its own: Ctrl-C reaches the app first, which drains its calls
# (BYEs still need the SIP server), and the SIP server is stopped last
EDGE_SIP_LISTEN="$SIP_LISTEN" EDGE_ADMIN_PORT="$DRACHTIO_PORT" EDGE_SECRET="$DRACHTIO_SECRET" EDGE_LOG_LEVEL=${EDGE_LOG_LEVEL:-warn} \
  setsid node bin/softswitch-edge.js &
edge_pid=$!
node --import tsx src/main.ts &
app_pid=$!
node --import tsx src/api/api-main.ts &
api_pid=$!
stop() {
  kill -TERM "$app_pid" "$api_pid" 2>/dev/null || true
  wait "$app_pid" "$api_pid" 2>/dev/null || true
  kill -TERM "$edge_pid" 2>/dev/null || true; wait "$edge_pid" 2>/dev/null || true
  if [ -n "$mail_pid" ]; then kill -TERM "$mail_pid" 2>/dev/null || true; wait "$mail_pid" 2>/dev/null || true; fi
}
trap 'stop; exit 0' INT TERM
echo "SIP edge listening on $SIP_LISTEN (control port $DRACHTIO_PORT)"
[ -n "$mail_pid" ] && echo "Outgoing mail is captured on 127.0.0.1:$MAIL_CAPTURE_PORT: read it in $(pwd)/.data/mail/ (one .eml file per mail)"
wait -n "$edge_pid" "$app_pid" "$api_pid" || true
stop
exit 1
