/**
 * `ultralink status ID --watch` and `ultralink list` as a user runs them (child processes of bin/ultralink.js) against
 * a tiny build on the dev server: live bars per language × stage with rate and ETA from the stages' progress queries,
 * the UI link, the end of the watch when the build closes, and the list line with state, progress and link.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startBuild, uiUrlFor } from '../../src/client';
import { mergeConfigInput, type ConfigInput } from '../../src/config';
import { startFakeOpenAi, type FakeOpenAi } from '../support/fake-openai';
import { startWorker, testClient, testConfig, testDir } from '../support/harness';
import { REPO_ROOT } from '../support/shared-data';
import { TINY_THRESHOLDS, tinyLanguages } from '../support/tiny-data';

const run = promisify(execFile);

async function cli(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [path.join(REPO_ROOT, 'bin/ultralink.js'), ...args], { cwd: REPO_ROOT, maxBuffer: 16 << 20, timeout: 150_000 });
  return stdout;
}

let fake: FakeOpenAi;
beforeAll(async () => {
  // Slow answers keep the stages running across several 2 s refreshes.
  fake = await startFakeOpenAi({ faults: { latencyMs: 800 } });
});
afterAll(async () => {
  await fake.stop();
});

describe('status --watch and list', () => {
  it('renders live stage bars with rate and ETA until the build completes, then lists it with its state and UI link', async () => {
    const dir = testDir('status-watch');
    const input = mergeConfigInput({ ...TINY_THRESHOLDS, languages: tinyLanguages(dir, ['en', 'zh'], 2) }, { llm: { concurrency: 2 } }) as ConfigInput;
    const config = testConfig(dir, fake.url, input);
    const configPath = path.join(dir, 'config.yaml');
    writeFileSync(configPath, stringify(config));
    const worker = await startWorker(config);
    try {
      const client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      const watched = await cli(['status', buildId, '--watch', '-c', configPath]);
      const lines = watched.split('\n');
      console.log(`status --watch output:\n${watched}`);
      expect(watched).toContain(`UI  ${uiUrlFor(config, buildId)}`);
      expect(lines).toContain(`build ${buildId}  running  state=running  stage=languages`);
      // A running dialogue stage was read from its progress query: counts against the quota, a rate and an ETA.
      const live = lines.filter((l) => /^zh\s+chat_specific\s/.test(l) && l.endsWith('running'));
      expect(live.length).toBeGreaterThan(0);
      expect(live.some((l) => /\d+\/2\b/.test(l) && /\d\.\d\d\/s/.test(l) && /eta /.test(l) && /tok \d/.test(l) && /\$\d\.\d{4}/.test(l))).toBe(true);
      expect(lines.some((l) => /^en\s+knowledge\s/.test(l))).toBe(true);
      // A finished stage is read from its result: the exact quota met, its tokens and cost.
      expect(lines.some((l) => /^zh\s+chat_specific\s.*100%\s+2\/2\s.*tok \d+\s+\$\d\.\d{4}\s+completed$/.test(l))).toBe(true);
      expect(lines.some((l) => /^total: tok \d+\s+\$\d\.\d{4}$/.test(l))).toBe(true);
      expect(watched).toContain(`build ${buildId} completed`);
      expect(watched).toContain('dataset: ');

      const listed = (await cli(['list', '-c', configPath])).split('\n').find((l) => l.startsWith(buildId));
      expect(listed).toBeDefined();
      for (const part of ['COMPLETED', 'state=done', 'stage=done', uiUrlFor(config, buildId)]) expect(listed).toContain(part);
    } finally {
      await worker.stop();
    }
  }, 180_000);
});
