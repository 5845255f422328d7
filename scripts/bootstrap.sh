#!/usr/bin/env bash
# Installs the project's npm dependencies when missing or stale (idempotent; npm's cache makes reruns cheap).
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.ultralink-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "ultralink: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
