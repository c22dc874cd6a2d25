#!/usr/bin/env bash
# Starts the softswitch on this machine: local Redis and PostgreSQL (installed/started when
# missing), migrations, the ledger writer, the HTTP API and a demo account. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
WANT_SIPP=0 SOFTSWITCH_DATABASES=softswitch scripts/ensure-services.sh
. scripts/local-env.sh
export DEMO_SEED=${DEMO_SEED:-true}
export LOG_LEVEL=${LOG_LEVEL:-info}
exec node --import tsx src/main.ts
