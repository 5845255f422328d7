/**
 * Scale-out guarantee (issue 8) on the real dev server: three worker processes share one build; one is
 * SIGKILLed mid-run and no replacement is started, so the two survivors must pick up its workflow tasks and
 * its LLM activities. The build still delivers exactly its quota, byte-identical to an undisturbed run.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBuild, waitForBuild } from '../../src/client';
import { mergeConfigInput, type Config, type ConfigInput } from '../../src/config';
import { createFsStorage } from '../../src/storage/fs-storage';
import { startFakeOpenAi, type FakeOpenAi } from '../support/fake-openai';
import { spawnWorker, startWorker, testClient, testConfig, testDir, waitUntil } from '../support/harness';
import { TINY_THRESHOLDS, writeTinyDump } from '../support/tiny-data';

let fake: FakeOpenAi;
beforeAll(async () => {
  fake = await startFakeOpenAi();
});
afterAll(async () => {
  await fake.stop();
});

const QUOTA = { en: 8, zh: 6 } as const;

/** Two languages, a few articles each (about three segments per article), small LLM concurrency per worker. */
function multiConfig(dir: string): Config {
  const input = mergeConfigInput(TINY_THRESHOLDS, {
    seed: 11,
    languages: { en: { dump: writeTinyDump(dir, 'en', 4), chatSpecific: QUOTA.en }, zh: { dump: writeTinyDump(dir, 'zh', 4), chatSpecific: QUOTA.zh } },
    dialogue: { maxTurns: 2 },
    llm: { concurrency: 4 },
  }) as ConfigInput;
  return testConfig(dir, fake.url, input);
}

/** The chat_specific files of a finished build, by language. */
async function outputs(config: Config, buildId: string): Promise<Record<string, string>> {
  const storage = createFsStorage(path.join(config.stateDir, 'data'));
  const out: Record<string, string> = {};
  for (const lang of Object.keys(QUOTA)) out[lang] = (await storage.getText(`builds/${buildId}/dataset/${lang}_chat_specific.jsonl`)) ?? '';
  return out;
}

function lineCount(text: string): number {
  return text.split('\n').filter((l) => l.length > 0).length;
}

function completions(): number {
  return fake.log.filter((e) => e.path.endsWith('/chat/completions') && e.status === 200).length;
}

describe('several workers on one build', () => {
  it('loses no work when one of three workers is SIGKILLed mid-run', async () => {
    fake.reset();
    fake.setFaults({ latencyMs: 100 });
    const calmConfig = multiConfig(testDir('calm'));
    const calmWorker = await startWorker(calmConfig);
    let calm: Record<string, string>;
    try {
      const client = await testClient(calmConfig);
      const { buildId } = await startBuild(client, calmConfig);
      await waitForBuild(client, buildId);
      calm = await outputs(calmConfig, buildId);
    } finally {
      await calmWorker.stop();
    }
    expect(lineCount(calm.en!)).toBe(QUOTA.en);
    expect(lineCount(calm.zh!)).toBe(QUOTA.zh);

    fake.reset();
    fake.setFaults({ latencyMs: 400 });
    const dir = testDir('killed');
    const config = multiConfig(dir);
    const workers = [spawnWorker(config, dir), spawnWorker(config, dir), spawnWorker(config, dir)];
    try {
      const client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      // Mid-run: dialogues are under way in both languages, most LLM calls are still to come.
      await waitUntil(() => completions() >= 6, 120_000, 'six LLM calls done');
      const before = completions();
      workers[0]!.child.kill('SIGKILL');
      expect(await workers[0]!.exited).toBeNull(); // killed by the signal, not a clean exit
      const result = await waitForBuild(client, buildId);
      expect(completions()).toBeGreaterThan(before); // the survivors did the rest
      expect(result.dataset.files).toMatchObject({ 'en_chat_specific.jsonl': QUOTA.en, 'zh_chat_specific.jsonl': QUOTA.zh });
      const built = await outputs(config, buildId);
      expect(lineCount(built.en!)).toBe(QUOTA.en);
      expect(lineCount(built.zh!)).toBe(QUOTA.zh);
      expect(built).toEqual(calm);
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
    }
  });
});
