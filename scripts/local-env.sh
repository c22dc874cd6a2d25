#!/usr/bin/env bash
# Sourced by the start and CLI scripts: local development settings, and a locally generated PIN
# pepper kept in .data/local.env (git-ignored) so secrets never live in the repository.
# Anything already set in the environment wins.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$_root/.data"
if [ ! -f "$_root/.data/local.env" ]; then
  umask 077
  printf 'PIN_PEPPER=%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$_root/.data/local.env"
fi
set -a
# shellcheck disable=SC1091
. "$_root/.data/local.env"
set +a
export PIN_PEPPER
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/softswitch}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
