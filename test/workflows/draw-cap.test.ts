/** control.maxDrawFactor: a stage whose every draw fails its gates stops after quota × factor draws, as `exhausted`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBuild, waitForBuild } from '../../src/client';
import { mergeConfigInput, type ConfigInput } from '../../src/config';
import { startFakeOpenAi, type FakeOpenAi } from '../support/fake-openai';
import { startWorker, testClient, testConfig, testDir } from '../support/harness';
import { TINY_THRESHOLDS, writeTinyDump } from '../support/tiny-data';

let fake: FakeOpenAi;
beforeAll(async () => {
  fake = await startFakeOpenAi({ faults: { wrongLanguage: 'ru' } });
});
afterAll(async () => {
  await fake.stop();
});

describe('draw cap', () => {
  it.each([
    [0, 'every segment'],
    [2, 'quota × 2 segments'],
  ])('with maxDrawFactor %i the failing stage draws %s and says exhausted', async (factor) => {
    fake.reset();
    fake.setFaults({ wrongLanguage: 'ru' });
    const dir = testDir('drawcap');
    const overrides = mergeConfigInput(TINY_THRESHOLDS, { languages: { en: { dump: writeTinyDump(dir, 'en', 4), chatSpecific: 2 } }, control: { maxDrawFactor: factor } }) as ConfigInput;
    const config = testConfig(dir, fake.url, overrides);
    const worker = await startWorker(config);
    try {
      const client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      const result = await waitForBuild(client, buildId);
      const stage = result.stages.find((s) => s.lang === 'en' && s.stage === 'chat_specific')!;
      expect(stage.status).toBe('exhausted');
      const drawn = stage.funnel.chat_specific!.total;
      const segments = result.stages.find((s) => s.stage === 'knowledge')!.funnel.segment!.tokens > 0;
      expect(segments).toBe(true);
      // Each draw is dropped at its first question: one LLM call per draw.
      expect(stage.funnel.chat_specific!.byReason).toEqual({ dialogue_wrong_language: drawn });
      if (factor === 0) expect(drawn).toBeGreaterThan(4);
      else expect(drawn).toBe(4);
      expect(stage.funnel.quota!.byReason).toEqual({ chat_specific_source_exhausted: 2 });
    } finally {
      await worker.stop();
    }
  });
});
