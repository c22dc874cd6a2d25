#!/usr/bin/env bash
# Makes sure a local Redis and PostgreSQL answer, installing (Debian packages) and starting them
# when they do not, and creates the databases the service and the tests use. Idempotent: does
# nothing to services that already answer. Never waits silently: every wait is bounded and says so.
set -euo pipefail

REDIS_HOST=${REDIS_HOST:-127.0.0.1}
REDIS_PORT=${REDIS_PORT:-6379}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
DBS=${SOFTSWITCH_DATABASES:-"softswitch softswitch_test"}
WANT_SIPP=${WANT_SIPP:-1}
# linphone's console client (linphonec), the second real SIP client of the tests (test/e2e/sip-real-clients.test.ts)
WANT_LINPHONE=${WANT_LINPHONE:-1}
# Kamailio in front of several SIP servers (test/e2e/kamailio-dispatch.test.ts runs sip-config/kamailio/kamailio.cfg)
WANT_KAMAILIO=${WANT_KAMAILIO:-1}

log() { printf '[services] %s\n' "$*" >&2; }
is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
  if ! is_root; then
    log "missing: $*; install them with: sudo apt-get update && sudo apt-get install -y $*"
    exit 1
  fi
  if [ -z "${APT_UPDATED:-}" ]; then
    log "apt-get update"; DEBIAN_FRONTEND=noninteractive apt-get update -qq; APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

redis_ok() { redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
pg_ok() { pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; }

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v pg_isready >/dev/null || need+=(postgresql postgresql-client)
if ! command -v pg_ctlcluster >/dev/null && ! pg_ok 2>/dev/null; then need+=(postgresql); fi
[ "$WANT_SIPP" = 1 ] && ! command -v sipp >/dev/null && need+=(sip-tester)
[ "$WANT_LINPHONE" = 1 ] && ! command -v linphonec >/dev/null && need+=(linphone-cli)
[ "$WANT_KAMAILIO" = 1 ] && ! command -v kamailio >/dev/null && need+=(kamailio)
[ ${#need[@]} -gt 0 ] && apt_install $(printf '%s\n' "${need[@]}" | sort -u)
# the package's own service would take port 5060 on every address: the tests start their own
if [[ " ${need[*]} " == *" kamailio "* ]] && command -v systemctl >/dev/null; then
  systemctl disable --now kamailio >/dev/null 2>&1 || true
fi

if ! redis_ok; then
  log "starting redis-server on $REDIS_HOST:$REDIS_PORT"
  mkdir -p /tmp/softswitch-redis
  redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /tmp/softswitch-redis --logfile /tmp/softswitch-redis/redis.log
  for _ in $(seq 1 50); do redis_ok && break; sleep 0.2; done
  redis_ok || { log "redis did not answer within 10 s; see /tmp/softswitch-redis/redis.log"; exit 1; }
fi

if ! pg_ok; then
  if command -v pg_ctlcluster >/dev/null && is_root; then
    ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
    if [ -z "$ver" ]; then
      log "no PostgreSQL cluster; creating one"
      ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
      pg_createcluster "$ver" main >/dev/null
    fi
    # trust auth on loopback for the local development/test cluster
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    if ! grep -q '^# softswitch-local' "$hba"; then
      { echo '# softswitch-local'; echo 'host all all 127.0.0.1/32 trust'; echo 'host all all ::1/128 trust'; echo 'local all all trust'; cat "$hba"; } > "$hba.new" && mv "$hba.new" "$hba"
    fi
    log "starting PostgreSQL $ver"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  else
    log "PostgreSQL is not answering on $PGHOST:$PGPORT and cannot be started from here (need root and Debian's postgresql)"
    exit 1
  fi
  for _ in $(seq 1 100); do pg_ok && break; sleep 0.2; done
  pg_ok || { log "PostgreSQL did not answer within 20 s"; exit 1; }
fi

for db in $DBS; do
  if ! psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -tAc "select 1 from pg_database where datname='$db'" postgres | grep -q 1; then
    log "creating database $db"
    psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -qc "create database $db" postgres
  fi
done
log "redis and postgres ready"
