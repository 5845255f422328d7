/**
 * Integration-test services, started once per run: a real Temporal dev server (the `temporal` CLI from a
 * registry) and the workflow bundle, built once and shared by every worker the tests start.
 */
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { toolEnv } from '../../src/config';
import { ensureTemporalBinary, freePort, startDevServer } from '../../src/devtools/temporal';
import { buildWorkflowBundle } from '../../src/worker';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalBinary: string;
    workflowBundlePath: string;
    scratchDir: string;
  }
}

export default async function setup(project: TestProject) {
  const scratchDir = mkdtempSync(path.join(os.tmpdir(), 'ultralink-it-'));
  const binary = ensureTemporalBinary(toolEnv().cacheDir, (m) => console.log(m));
  const port = await freePort();
  const server = await startDevServer({ binary, port, namespace: 'default', dbFile: path.join(scratchDir, 'temporal.sqlite'), logFile: path.join(scratchDir, 'temporal.log') });
  const bundle = await buildWorkflowBundle();
  const workflowBundlePath = path.join(scratchDir, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle.code);
  project.provide('temporalAddress', server.address);
  project.provide('temporalBinary', binary);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('scratchDir', scratchDir);
  return async () => {
    await server.stop();
    if (!process.env.ULTRALINK_KEEP_SCRATCH) rmSync(scratchDir, { recursive: true, force: true });
  };
}
