#!/usr/bin/env bash
# The test command (README, CI): installs what it needs, then fast unit tests, then integration tests on real
# services (the Temporal dev server and MinIO are installed from registries and started by the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
npx tsx scripts/ensure-tools.ts
mkdir -p .ultralink/test-results
status=0
npx tsc -p tsconfig.json --noEmit || status=1
npx eslint src test bench scripts || status=1
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json=.ultralink/test-results/unit.json || status=1
npx vitest run --project integration --reporter=default --reporter=json --outputFile.json=.ultralink/test-results/integration.json || status=1
node scripts/summarise-tests.js .ultralink/test-results/unit.json .ultralink/test-results/integration.json || status=1
exit $status
