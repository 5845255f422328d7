/** A worker bundles the workflow code once per code version, not at every start. */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachedWorkflowBundle } from '../../src/worker';
import { testDir } from '../support/harness';

describe('cachedWorkflowBundle', () => {
  it('builds the bundle on first use, then loads the same code from the cache under one content-hash name', async () => {
    const cacheDir = testDir('bundle-cache');
    const first = await cachedWorkflowBundle(cacheDir);
    expect(first.cached).toBe(false);
    expect(first.code).toContain('buildDatasetWorkflow');
    const second = await cachedWorkflowBundle(cacheDir);
    expect(second).toEqual({ code: first.code, cached: true });
    const files = readdirSync(path.join(cacheDir, 'workflow-bundles'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[0-9a-f]{24}\.js$/);
  });
});
