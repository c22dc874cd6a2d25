#!/usr/bin/env bash
# Operator CLI with the local settings: scripts/cli.sh reconcile
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/local-env.sh
exec node bin/softswitch.js "$@"
