#!/usr/bin/env bash
# The main job (README): installs what it needs, then `ultralink demo` with embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec node bin/ultralink.js demo "$@"
