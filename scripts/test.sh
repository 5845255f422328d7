#!/usr/bin/env bash
# The test command (README, CI): installs what it needs, then fast unit tests, then integration tests on real
# services (the Temporal dev server and MinIO are installed from registries and started by the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
npx tsx scripts/ensure-tools.ts
# The UI test drives Debian's Chromium (a browser cannot be downloaded here); install it once as root.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ultralink: installing chromium for the Temporal UI test (apt-get)" >&2
  { apt-get update -qq && apt-get install -y -qq chromium; } >/dev/null 2>&1 || echo "ultralink: chromium could not be installed; the UI test will say so and skip" >&2
fi
mkdir -p .ultralink/test-results
status=0
npx tsc -p tsconfig.json --noEmit || status=1
npx eslint src test bench scripts || status=1
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json=.ultralink/test-results/unit.json || status=1
npx vitest run --project integration --reporter=default --reporter=json --outputFile.json=.ultralink/test-results/integration.json || status=1
node scripts/summarise-tests.js .ultralink/test-results/unit.json .ultralink/test-results/integration.json || status=1
exit $status
