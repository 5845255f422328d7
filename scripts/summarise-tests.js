// Prints one closing line over all vitest JSON reports: "N passed, N failed, N skipped".
'use strict';
const fs = require('node:fs');
let passed = 0, failed = 0, skipped = 0, missing = 0;
for (const file of process.argv.slice(2)) {
  if (!fs.existsSync(file)) { missing += 1; continue; }
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + (r.numTodoTests || 0);
}
if (missing) console.log(`${missing} test report(s) missing: a project did not run`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || missing > 0 || passed === 0 ? 1 : 0);
