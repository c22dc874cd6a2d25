#!/usr/bin/env bash
# Sourced by the start and CLI scripts: local development settings, and locally generated secrets
# (PIN pepper, SIP nonce key, SIP server secret) kept in .data/local.env (git-ignored) so secrets
# never live in the repository. Anything already set in the environment wins.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$_root/.data"
touch "$_root/.data/local.env"
chmod 600 "$_root/.data/local.env"
for _name in PIN_PEPPER SIP_NONCE_KEY DRACHTIO_SECRET; do
  if ! grep -q "^${_name}=" "$_root/.data/local.env"; then
    printf '%s=%s\n' "$_name" "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >> "$_root/.data/local.env"
  fi
done
while IFS='=' read -r _k _v; do
  [ -n "$_k" ] && [ -z "${!_k:-}" ] && export "$_k=$_v"
done < "$_root/.data/local.env"
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/softswitch}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
