/**
 * Scale of the dialogue stage (issue 3): 2,000 dialogues with the zero-latency fake LLM through the real dev
 * server. Every workflow of the build stays far below Temporal's history limits; the figures printed here
 * (events per dialogue, largest history, extrapolation to the paper's 147K dialogues) go to the closing note.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBuild, waitForBuild } from '../../src/client';
import { mergeConfigInput, type ConfigInput } from '../../src/config';
import { freePort, startDevServer, type DevServer } from '../../src/devtools/temporal';
import { createFsStorage } from '../../src/storage/fs-storage';
import { languageWorkflowId, stageWorkflowId } from '../../src/names';
import { expectedTurnDistribution } from '../../src/core/dialogue/plan';
import { progressQuery, type QuotaStageProgress } from '../../src/workflows/quota-stage';
import { startFakeOpenAi, type FakeOpenAi } from '../support/fake-openai';
import { startWorker, testClient, testConfig, testDir } from '../support/harness';
import { TINY_THRESHOLDS, writeTinyDump } from '../support/tiny-data';

const DIALOGUES = 2_000;
/** Temporal's hard limit is 51,200 events; the issue asks for a wide margin. */
const MAX_EVENTS = 10_000;
/** The paper's volume: 147K language-specific dialogues (Table 2), the largest language 37K. */
const PAPER_DIALOGUES = 147_000;
const PAPER_LARGEST_LANGUAGE = 37_000;

let fake: FakeOpenAi;
let server: DevServer;
beforeAll(async () => {
  fake = await startFakeOpenAi();
  // A private dev server with in-memory persistence: the shared one fsyncs SQLite on every event, which on a
  // busy 2-core machine triples the run time without changing a single history.
  server = await startDevServer({ binary: inject('temporalBinary'), port: await freePort(), namespace: 'default' });
});
afterAll(async () => {
  await fake.stop();
  await server?.stop();
});

describe('dialogue stage at scale', () => {
  it(`runs ${DIALOGUES} dialogues with every workflow history under ${MAX_EVENTS} events`, async () => {
    const dir = testDir('scale');
    // ~9 segments per tiny article with these thresholds: 240 articles give ~2,100 segments.
    const input = mergeConfigInput(TINY_THRESHOLDS, {
      languages: { en: { dump: writeTinyDump(dir, 'en', 240), chatSpecific: DIALOGUES } },
      knowledge: { minSegmentTokens: 20, maxSegmentTokens: 60 },
      dialogue: { maxTurns: 3, endProbability: 0.25 },
      llm: { concurrency: 32 },
      worker: { workConcurrency: 8 },
    }) as ConfigInput;
    const config = testConfig(dir, fake.url, input, server.address);
    const worker = await startWorker(config);
    try {
      const client = await testClient(config);
      const started = Date.now();
      const { buildId } = await startBuild(client, config);
      const stageId = stageWorkflowId(buildId, 'en', 'chat_specific');
      // The progress query while the stage runs: counters only ever move forward and never pass the quota.
      const seen: QuotaStageProgress[] = [];
      let building = true;
      const polling = (async () => {
        while (building) {
          await new Promise((r) => setTimeout(r, 2_000));
          await client.workflow.getHandle(stageId).query(progressQuery).then((p) => seen.push(p), () => undefined); // not started yet
        }
      })();
      const result = await waitForBuild(client, buildId).finally(() => (building = false));
      await polling;
      const buildMs = Date.now() - started;
      const stage = result.stages.find((s) => s.stage === 'chat_specific')!;
      expect(stage.status).toBe('met');
      expect(result.dataset.files['en_chat_specific.jsonl']).toBe(DIALOGUES);
      expect(await client.workflow.getHandle(stageId).query(progressQuery)).toMatchObject({ done: DIALOGUES, total: DIALOGUES, kept: DIALOGUES, dropped: 0, inFlight: 0, calls: stage.calls });
      expect(seen.some((p) => p.kept > 0 && p.kept < DIALOGUES)).toBe(true);
      for (const [a, b] of seen.slice(1).map((p, i) => [seen[i]!, p] as const)) expect(b.kept).toBeGreaterThanOrEqual(a.kept);
      expect(seen.every((p) => p.kept + p.inFlight <= DIALOGUES && p.total === DIALOGUES)).toBe(true);

      // The end-probability rule over 2,000 seeded dialogues: turn counts within 4 sigma of the exact distribution.
      const storage = createFsStorage(path.join(dir, 'data'));
      const meta = ((await storage.getText(`builds/${buildId}/dataset/en_chat_specific.meta.jsonl`)) ?? '').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { turnKinds: string[] });
      const expected = expectedTurnDistribution(config.dialogue);
      expected.forEach((p, i) => {
        const observed = meta.filter((m) => m.turnKinds.length === i + 1).length;
        expect(Math.abs(observed - p * DIALOGUES), `dialogues of ${i + 1} turns`).toBeLessThanOrEqual(4 * Math.sqrt(DIALOGUES * p * (1 - p)) + 1);
      });

      // Every workflow of the build: the top, the language, its stages, and each batch (one per batch record).
      const batchKeys = await storage.list(`builds/${buildId}/en/chat_specific/batches/`);
      const ids = [buildId, languageWorkflowId(buildId, 'en'), stageWorkflowId(buildId, 'en', 'knowledge'), stageWorkflowId(buildId, 'en', 'chat_specific')];
      for (const key of batchKeys) ids.push(stageWorkflowId(buildId, 'en', 'chat_specific', Number(path.basename(key, '.json'))));
      const lengths = new Map<string, number>();
      for (const id of ids) lengths.set(id, (await client.workflow.getHandle(id).describe()).historyLength);
      const batchLengths = ids.slice(4).map((id) => lengths.get(id)!);
      const stageLength = lengths.get(ids[3]!)!;
      const total = [...lengths.values()].reduce((n, k) => n + k, 0);
      const [largestId, largest] = [...lengths].sort((a, b) => b[1] - a[1])[0]!;
      const perDialogue = batchLengths.reduce((n, k) => n + k, 0) / DIALOGUES;
      const stagePerBatch = stageLength / batchKeys.length;
      const batchesLargestLanguage = Math.ceil(PAPER_LARGEST_LANGUAGE / 50);
      console.log(
        [
          `scale: ${DIALOGUES} dialogues, ${stage.calls} LLM calls, ${batchKeys.length} batch workflows, ${buildMs} ms`,
          `events per dialogue (batch histories): ${perDialogue.toFixed(1)}; all workflows: ${(total / DIALOGUES).toFixed(1)}`,
          `largest history: ${largest} events (${largestId}); largest batch ${Math.max(...batchLengths)}; stage ${stageLength} (${stagePerBatch.toFixed(1)} per batch)`,
          `147K extrapolation: ${Math.round(perDialogue * PAPER_DIALOGUES).toLocaleString('en')} events in ${Math.ceil(PAPER_DIALOGUES / 50)} batch workflows of <= ${Math.max(...batchLengths)} events each; ` +
            `the largest language's stage would record ~${Math.round(stagePerBatch * batchesLargestLanguage)} events over ${batchesLargestLanguage} batches (continue-as-new when suggested)`,
        ].join('\n'),
      );
      expect(largest).toBeLessThan(MAX_EVENTS);
      expect(batchLengths).toHaveLength(Math.ceil(DIALOGUES / 50));
    } finally {
      await worker.stop();
    }
  }, 600_000);
});
