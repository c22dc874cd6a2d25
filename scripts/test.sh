#!/usr/bin/env bash
# The whole test suite: type check, lint, then every vitest file against real Redis, Postgres and SIP.
# Needs Redis on $REDIS_URL (default redis://127.0.0.1:6379) and Postgres on $DATABASE_URL
# (default postgres://postgres@127.0.0.1:5432/softswitch_test); scripts/ensure-services.sh starts local ones.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-services.sh
echo "== tsc --noEmit"; npx tsc --noEmit
echo "== prettier --check (formatting, width 160)"; npx prettier --check . >/dev/null || { npx prettier --list-different .; echo "not formatted: run npm run format -- ."; exit 1; }
echo "== eslint (style, type-aware promise rules, component boundaries)"; npx eslint .
echo "== vitest"; npx vitest run "$@"
