/**
 * Live control on the real dev server with the fake LLM: pause/unpause (the fake's request log proves no call
 * starts while paused), a budget that pauses the build until raised, a run-time concurrency cap, and AIMD under
 * a 429 storm. Every disturbed build must deliver the exact quota and the same dataset as an undisturbed one.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { buildControl, listBuilds, pauseBuild, resumeBuild, setBuild, startBuild, unpauseBuild, waitForBuild } from '../../src/client';
import { mergeConfigInput, resolveConfig, type ConfigInput } from '../../src/config';
import { stageWorkflowId } from '../../src/names';
import { createFsStorage } from '../../src/storage/fs-storage';
import { aimdNext, BuildControl, carryOver, newerControl, type BuildControlProgress } from '../../src/workflows/control';
import type { QuotaStageProgress } from '../../src/workflows/quota-stage';
import { startFakeOpenAi, type FakeLogEntry, type FakeOpenAi } from '../support/fake-openai';
import { llmDrained, startWorker, testClient, testConfig, testDir, waitUntil } from '../support/harness';
import { TINY_THRESHOLDS, writeTinyDump } from '../support/tiny-data';

const DIALOGUES = 4;
const AIMD = resolveConfig({}).control.aimd;

describe('control state (pure)', () => {
  it.each([
    { name: 'a 429 halves', current: 8, limited: 1, ceiling: 16, want: 4 },
    { name: 'success adds one', current: 4, limited: 0, ceiling: 16, want: 5 },
    { name: 'never above the ceiling', current: 16, limited: 0, ceiling: 16, want: 16 },
    { name: 'never below the floor', current: 1, limited: 3, ceiling: 16, want: 1 },
    { name: 'a lowered ceiling wins', current: 12, limited: 0, ceiling: 2, want: 2 },
  ])('aimdNext: $name', ({ current, limited, ceiling, want }) => {
    expect(aimdNext(current, limited, ceiling, AIMD)).toBe(want);
  });

  it('pauses at the budget, counts each reporter once, and resumes when the budget is raised', () => {
    const c = new BuildControl(0.01);
    const v1 = c.settings();
    c.report({ source: 'b/0', usd: 0.004 });
    c.report({ source: 'b/0', usd: 0.006 }); // cumulative: replaces, never adds
    c.report({ source: 'b/0', usd: 0.005 }); // an older report never lowers it
    expect(c.progress()).toMatchObject({ state: 'running', spentUsd: 0.006 });
    expect(c.settings()).toBe(v1);
    c.report({ source: 'b/50', usd: 0.004 });
    expect(c.progress()).toMatchObject({ state: 'budget_paused', budgetPaused: true });
    const v2 = c.settings();
    expect(v2).toMatchObject({ paused: true, version: v1.version + 1 });
    c.set({ budgetUsd: 1 });
    expect(c.settings()).toMatchObject({ paused: false, version: v2.version + 1 });
  });

  it('carries spend, budget and concurrency over to a resumed run, and starts it budget-paused when they say so', () => {
    const first = carryOver(0.01, undefined, [
      { name: 'spend', arg: { source: 'b/0', usd: 0.004 } },
      { name: 'setControl', arg: { budgetUsd: 0.02 } },
      { name: 'pause', arg: undefined }, // a pause is not carried: resuming is going on
      { name: 'spend', arg: { source: 'b/0', usd: 0.006 } },
      { name: 'spend', arg: { source: 'b/50', usd: 0.003 } },
      { name: 'setControl', arg: { concurrency: 3 } },
    ]);
    expect(first).toMatchObject({ budgetUsd: 0.02, concurrency: 3 });
    expect(first.spentUsd).toBeCloseTo(0.009, 12);
    // The second run's reporters start from zero again; its carried state keeps the first run's total.
    const second = carryOver(0.01, first, [{ name: 'spend', arg: { source: 'b/0', usd: 0.002 } }]);
    expect(second.spentUsd).toBeCloseTo(0.011, 12);
    expect(second).toMatchObject({ budgetUsd: 0.02, concurrency: 3 });
    const resumed = new BuildControl(0.01, { ...second, budgetUsd: 0.011 });
    expect(resumed.progress()).toMatchObject({ state: 'budget_paused', budgetUsd: 0.011, concurrency: 3 });
    expect(new BuildControl(0.01, { spentUsd: 0 }).progress()).toMatchObject({ state: 'running', budgetUsd: 0.01, spentUsd: 0 });
  });

  it('a child keeps the newer settings when an older forward arrives late', () => {
    const held = { paused: true, version: 3 };
    expect(newerControl(held, { paused: false, version: 2 })).toBe(held);
    expect(newerControl(held, { paused: false, version: 4 })).toEqual({ paused: false, version: 4 });
  });
});

let fake: FakeOpenAi;
let baseline: string;
let baselineMaxInFlight: number;

/** A one-language build with a few dialogues, whose LLM calls are slow enough to overlap. */
function controlConfig(name: string, extra: ConfigInput = {}) {
  const dir = testDir(name);
  const input = mergeConfigInput({ ...TINY_THRESHOLDS, languages: { en: { dump: writeTinyDump(dir, 'en', 4), chatSpecific: DIALOGUES } } }, extra) as ConfigInput;
  return { dir, config: testConfig(dir, fake.url, input) };
}

/** The assembled chat_specific file of a finished build. */
async function datasetText(dir: string, buildId: string): Promise<string> {
  const storage = createFsStorage(path.join(dir, 'data'));
  return (await storage.getText(`builds/${buildId}/dataset/en_chat_specific.jsonl`)) ?? '';
}

function chatCalls(): FakeLogEntry[] {
  return fake.log.filter((e) => e.path.endsWith('/chat/completions'));
}

/** Most requests of `entries` open at one instant. */
function maxOverlap(entries: FakeLogEntry[]): number {
  const edges = entries.flatMap((e) => [
    { t: e.startedAt, d: 1 },
    { t: e.endedAt ?? Number.POSITIVE_INFINITY, d: -1 },
  ]);
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let open = 0;
  let max = 0;
  for (const e of edges) {
    open += e.d;
    max = Math.max(max, open);
  }
  return max;
}


async function stageProgress(client: Client, buildId: string): Promise<QuotaStageProgress> {
  return client.workflow.getHandle(stageWorkflowId(buildId, 'en', 'chat_specific')).query<QuotaStageProgress>('progress');
}

/**
 * Activities scheduled or running in any open workflow of the build, as the server sees them: 0 once a pause
 * has taken effect everywhere (each cancelled call finished and nothing new scheduled). The positive signal
 * the pause tests wait for, instead of sleeping and then seeing nothing happen.
 */
async function pendingActivities(client: Client, buildId: string): Promise<number> {
  let n = 0;
  for await (const w of client.workflow.list({ query: `ExecutionStatus = 'Running'` })) {
    if (w.workflowId !== buildId && !w.workflowId.startsWith(`${buildId}/`)) continue;
    n += (await client.workflow.getHandle(w.workflowId, w.runId).describe()).raw.pendingActivities?.length ?? 0;
  }
  return n;
}

/** Waits until no activity of the build is pending; the server then holds nothing that could start a call. */
async function quiescent(client: Client, buildId: string): Promise<void> {
  await waitUntil(async () => (await pendingActivities(client, buildId)) === 0, 30_000, 'no activity pending anywhere in the build');
}

/** A budget below one call's cost: the first reported call reaches it. */
const TINY_BUDGET = 0.000_001;

/**
 * Runs `body` on a build started with TINY_BUDGET once it has paused itself and its calls have drained
 * (`quietFrom`: when the last one ended); its worker stops afterwards.
 */
async function withBudgetPausedBuild(name: string, body: (b: { dir: string; client: Client; buildId: string; quietFrom: number }) => Promise<void>): Promise<void> {
  fake.reset();
  fake.setFaults({ latencyMs: [150, 400] });
  const { dir, config } = controlConfig(name, { control: { budgetUsd: TINY_BUDGET } });
  const worker = await startWorker(config);
  try {
    const client = await testClient(config);
    const { buildId } = await startBuild(client, config);
    await waitForState(client, buildId, 'budget_paused', 90_000);
    await body({ dir, client, buildId, quietFrom: await llmDrained(fake) });
  } finally {
    await worker.stop();
  }
}

/** Waits until the build's control query reports `state` (the build may not answer queries yet at first). */
async function waitForState(client: Client, buildId: string, state: BuildControlProgress['state'], ms: number): Promise<void> {
  await waitUntil(async () => (await buildControl(client, buildId).catch(() => undefined))?.state === state, ms, `state ${state}`);
}

function lines(text: string): number {
  return text.split('\n').filter((l) => l.length > 0).length;
}

describe('live control of a running build', () => {
  beforeAll(async () => {
    fake = await startFakeOpenAi();
    // The undisturbed run every disturbed one is compared with.
    fake.setFaults({ latencyMs: [150, 400] });
    const { dir, config } = controlConfig('control-baseline');
    const worker = await startWorker(config);
    try {
      const client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      await waitForBuild(client, buildId);
      baseline = await datasetText(dir, buildId);
      baselineMaxInFlight = maxOverlap(chatCalls());
    } finally {
      await worker.stop();
    }
    expect(lines(baseline)).toBe(DIALOGUES);
  }, 120_000);
  afterAll(async () => {
    await fake.stop();
  });

  it('pause: running dialogues stop between calls, no LLM call starts until unpause; the build then completes identically', async () => {
    fake.reset();
    // Calls long enough that the pause (an activity cancellation, heard with a heartbeat) finds dialogues mid-way.
    fake.setFaults({ latencyMs: [800, 1200] });
    const { dir, config } = controlConfig('control-pause', { retry: { heartbeatTimeoutMs: 1_000 } });
    const worker = await startWorker(config);
    try {
      const client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      await waitUntil(() => chatCalls().length >= 2, 90_000, 'LLM calls to start');
      await pauseBuild(client, buildId);
      await waitUntil(async () => (await stageProgress(client, buildId).catch(() => undefined))?.paused === true, 30_000, 'the stage to see the pause');
      const quietFrom = await llmDrained(fake);
      const callsAtPause = chatCalls().length;
      await quiescent(client, buildId);
      const unpausedAt = Date.now();
      expect(chatCalls().filter((e) => e.startedAt > quietFrom && e.startedAt < unpausedAt)).toEqual([]);
      expect(chatCalls().length).toBe(callsAtPause);
      expect(await buildControl(client, buildId)).toMatchObject({ state: 'paused', userPaused: true });

      await unpauseBuild(client, buildId);
      const result = await waitForBuild(client, buildId);
      expect(result.dataset.files).toMatchObject({ 'en_chat_specific.jsonl': DIALOGUES });
      expect(chatCalls().some((e) => e.startedAt >= unpausedAt)).toBe(true);
      expect(await datasetText(dir, buildId)).toBe(baseline);
    } finally {
      await worker.stop();
    }
  }, 150_000);

  it('budget: the build pauses itself at the budget, says so, and finishes once the budget is raised', async () => {
    await withBudgetPausedBuild('control-budget', async ({ dir, client, buildId, quietFrom }) => {
      const control = await buildControl(client, buildId);
      expect(control).toMatchObject({ state: 'budget_paused', budgetPaused: true, userPaused: false, budgetUsd: TINY_BUDGET });
      expect(control.spentUsd).toBeGreaterThanOrEqual(TINY_BUDGET);
      const progress = await client.workflow.getHandle(buildId).query<{ control: { state: string } }>('progress');
      expect(progress.control.state).toBe('budget_paused');
      const described = await client.workflow.getHandle(buildId).describe();
      expect((described.searchAttributes as Record<string, unknown>).UltralinkState).toEqual(['budget_paused']);
      await quiescent(client, buildId);
      const raisedAt = Date.now();
      expect(chatCalls().filter((e) => e.startedAt > quietFrom && e.startedAt < raisedAt)).toEqual([]);
      expect(lines(await datasetText(dir, buildId))).toBe(0);

      const after = await setBuild(client, buildId, { budget: 100 });
      expect(after).toMatchObject({ state: 'running', budgetUsd: 100 });
      const result = await waitForBuild(client, buildId);
      expect(result.dataset.files).toMatchObject({ 'en_chat_specific.jsonl': DIALOGUES });
      expect(await datasetText(dir, buildId)).toBe(baseline);
    });
  }, 150_000);

  it('resume: the budget covers the whole build, with the budget set on the earlier run, and the build is listed once', async () => {
    await withBudgetPausedBuild('control-resume-budget', async ({ dir, client, buildId }) => {
      // A budget set on the run (still below the spend) must outlive it, as must the spend.
      const spent = (await buildControl(client, buildId)).spentUsd;
      await setBuild(client, buildId, { budget: spent / 2 });
      await client.workflow.getHandle(buildId).terminate('control test: an outage');
      const callsBefore = chatCalls().length;

      const resumed = await resumeBuild(client, buildId);
      expect(resumed.carried).toEqual({ spentUsd: spent, budgetUsd: spent / 2 });
      await waitForState(client, buildId, 'budget_paused', 30_000);
      expect(await buildControl(client, buildId)).toMatchObject({ budgetUsd: spent / 2, spentUsd: spent });
      await quiescent(client, buildId);
      expect(chatCalls()).toHaveLength(callsBefore);

      await setBuild(client, buildId, { budget: 100 });
      const result = await waitForBuild(client, buildId);
      expect(result.dataset.files).toMatchObject({ 'en_chat_specific.jsonl': DIALOGUES });
      expect(await datasetText(dir, buildId)).toBe(baseline);
      const listed = (await listBuilds(client, 1000)).filter((b) => b.buildId === buildId);
      expect(listed.map((b) => b.status)).toEqual(['COMPLETED']);
    });
  }, 150_000);

  it('set --concurrency 1 caps the LLM calls in flight', async () => {
    fake.reset();
    fake.setFaults({ latencyMs: [150, 400] });
    const { dir, config } = controlConfig('control-concurrency');
    const worker = await startWorker(config);
    try {
      const client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      const setAt = Date.now();
      await setBuild(client, buildId, { concurrency: 1 });
      // Calls already open when the cap arrived may finish; every call after them runs alone.
      const openAtSet = () => chatCalls().filter((e) => e.startedAt <= setAt);
      await waitUntil(() => openAtSet().every((e) => e.endedAt !== undefined), 60_000, 'calls open at the set to finish');
      const settledAt = Math.max(setAt, ...openAtSet().map((e) => e.endedAt!));
      await waitForBuild(client, buildId);
      const later = chatCalls().filter((e) => e.startedAt >= settledAt);
      expect(later.length).toBeGreaterThanOrEqual(DIALOGUES * 2);
      expect(baselineMaxInFlight).toBeGreaterThan(1);
      expect(maxOverlap(later)).toBe(1);
      expect((await stageProgress(client, buildId)).concurrency).toBe(1);
      expect(await datasetText(dir, buildId)).toBe(baseline);
    } finally {
      await worker.stop();
    }
  }, 150_000);

  it('control.concurrency caps the whole stage, not each batch: the batches in flight share it', async () => {
    fake.reset();
    fake.setFaults({ latencyMs: [300, 500] });
    const dialogues = 16;
    const dir = testDir('control-stage-cap');
    // A cap of 8 runs two batches; of 8 positions each, they would hold 16 dialogues at once if each had the whole 8.
    // The worker has 32 slots to spare, so only the stage's own cap can hold the calls to 8.
    const input = mergeConfigInput({ ...TINY_THRESHOLDS, languages: { en: { dump: writeTinyDump(dir, 'en', 12), chatSpecific: dialogues } } }, { control: { batchSize: 8, concurrency: 8 }, llm: { concurrency: 32 } }) as ConfigInput;
    const config = testConfig(dir, fake.url, input);
    const worker = await startWorker(config);
    try {
      const client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      const result = await waitForBuild(client, buildId);
      expect(result.dataset.files).toMatchObject({ 'en_chat_specific.jsonl': dialogues });
      expect(lines(await datasetText(dir, buildId))).toBe(dialogues);
      expect((await stageProgress(client, buildId)).batches).toBeGreaterThanOrEqual(2);
      const overlap = maxOverlap(chatCalls());
      expect(overlap).toBeLessThanOrEqual(8);
      expect(overlap).toBeGreaterThanOrEqual(4);
    } finally {
      await worker.stop();
    }
  }, 150_000);

  it('set --rate stores a fleet-wide rate limit on the LLM task queue', async () => {
    fake.reset();
    fake.setFaults({ latencyMs: [150, 400] });
    const { dir, config } = controlConfig('control-rate');
    const worker = await startWorker(config);
    try {
      const client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      await setBuild(client, buildId, { rate: 7 });
      const described = await client.workflowService.describeTaskQueue({
        namespace: config.temporal.namespace,
        taskQueue: { name: config.temporal.llmTaskQueue },
        taskQueueType: 2, // activity
        reportConfig: true,
      });
      expect(described.config?.queueRateLimit?.rateLimit?.requestsPerSecond).toBe(7);
      await waitForBuild(client, buildId);
      expect(await datasetText(dir, buildId)).toBe(baseline);
    } finally {
      await worker.stop();
    }
  }, 150_000);

  it('review gate: chat_specific stops after the first N dialogues until unpause, then completes identically', async () => {
    fake.reset();
    fake.setFaults({ latencyMs: [150, 400] });
    const { dir, config } = controlConfig('control-review', { control: { reviewAfter: { en: 2 } } });
    const worker = await startWorker(config);
    try {
      const client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      await waitUntil(async () => (await stageProgress(client, buildId).catch(() => undefined))?.review === true, 90_000, 'the review gate');
      const quietFrom = await llmDrained(fake);
      const p = await stageProgress(client, buildId);
      expect(p).toMatchObject({ review: true, paused: true, kept: 2, inFlight: 0 });
      await quiescent(client, buildId);
      const unpausedAt = Date.now();
      expect(chatCalls().filter((e) => e.startedAt > quietFrom && e.startedAt < unpausedAt)).toEqual([]);

      await unpauseBuild(client, buildId);
      const result = await waitForBuild(client, buildId);
      expect(result.dataset.files).toMatchObject({ 'en_chat_specific.jsonl': DIALOGUES });
      expect(await datasetText(dir, buildId)).toBe(baseline);
    } finally {
      await worker.stop();
    }
  }, 150_000);

  it('a 429 storm lowers the adaptive concurrency and the build still completes identically', async () => {
    fake.reset();
    fake.setFaults({ latencyMs: [150, 400], rateLimit: { every: 2, retryAfterMs: 50 } });
    const { dir, config } = controlConfig('control-aimd');
    const worker = await startWorker(config);
    try {
      const client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      await waitForBuild(client, buildId);
      expect(chatCalls().filter((e) => e.status === 429).length).toBeGreaterThan(0);
      const p = await stageProgress(client, buildId);
      expect(p.rateLimited).toBeGreaterThan(0);
      expect(p.aimdMin).toBeLessThan(config.llm.concurrency);
      expect(await datasetText(dir, buildId)).toBe(baseline);
    } finally {
      fake.reset();
      await worker.stop();
    }
  }, 150_000);
});
