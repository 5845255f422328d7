/**
 * Bench: what a worker start spends on its workflow bundle. Anchor: bundling at every start (webpack + swc, what
 * the SDK does when given a workflowsPath), side by side with this code version's cached bundle, first and later.
 *   npx tsx bench/worker-bundle.ts [--runs=3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWorkflowBundle, cachedWorkflowBundle } from '../src/worker';

const RUNS = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice('--runs='.length) ?? 3);

async function main(): Promise<void> {
  const rows: Array<{ everyStartMs: number; firstCachedStartMs: number; warmStartMs: number }> = [];
  for (let run = 0; run < RUNS; run++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ultralink-bundle-bench-'));
    try {
      let t = performance.now();
      await buildWorkflowBundle();
      const everyStartMs = performance.now() - t;
      t = performance.now();
      if ((await cachedWorkflowBundle(dir)).cached) throw new Error('a fresh cache dir held a bundle');
      const firstCachedStartMs = performance.now() - t;
      t = performance.now();
      if (!(await cachedWorkflowBundle(dir)).cached) throw new Error('the second start did not find the cached bundle');
      rows.push({ everyStartMs, firstCachedStartMs, warmStartMs: performance.now() - t });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const every = median(rows.map((r) => r.everyStartMs));
  const warm = median(rows.map((r) => r.warmStartMs));
  console.log(
    JSON.stringify(
      { runs: RUNS, bundleEveryStartMs: Math.round(every), firstCachedStartMs: Math.round(median(rows.map((r) => r.firstCachedStartMs))), warmStartMs: Math.round(warm), warmOverEveryStart: +(warm / every).toFixed(4) },
      null,
      2,
    ),
  );
}

void main();
