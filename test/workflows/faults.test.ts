/**
 * The fault suite (issue 6): every case runs the same tiny build (both pipelines: dumps for knowledge and dialogues,
 * small agnostic fixtures for the judge and translations) under one fault and asserts that every final dataset file
 * and sidecar is byte-identical to the undisturbed build with the same seed, and that the LLM requests beyond the
 * undisturbed count are at most the requests in flight when the fault struck.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { resumeBuild, startBuild, waitForBuild } from '../../src/client';
import { mergeConfigInput, type Config, type ConfigInput } from '../../src/config';
import { freePort, startDevServer } from '../../src/devtools/temporal';
import { createFsStorage } from '../../src/storage/fs-storage';
import type { Storage } from '../../src/storage/storage';
import { workerLogFile } from '../../src/logging';
import { createWorkers } from '../../src/worker';
import { startFakeOpenAi, type FakeLogEntry, type FakeOpenAi } from '../support/fake-openai';
import { faultyStorage } from '../support/faulty-storage';
import { finishOnNewWorker, spawnWorker, testClient, testConfig, testDir, waitUntil } from '../support/harness';
import { REPO_ROOT } from '../support/shared-data';
import { TINY_THRESHOLDS, tinyLanguages } from '../support/tiny-data';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'agnostic');
const LATENCY: [number, number] = [100, 300];
/** A request that ended this close to the fault counts as in flight at it (the answer may not have been stored yet). */
const IN_FLIGHT_SLACK_MS = 100;
const CASE_TIMEOUT = 150_000;

let fake: FakeOpenAi;
/** The build's input, dumps written once so every case reads the very same files. */
let input: ConfigInput;
/** The undisturbed build: its dataset files by name and its LLM request count. */
let reference: { files: Record<string, string>; calls: number; dir: string; buildId: string };

function chatEntries(): FakeLogEntry[] {
  return fake.log.filter((e) => e.path.endsWith('/chat/completions'));
}

/** Chat requests that had started before `at` and had not ended (or ended within the slack) at it. */
function inFlightAt(at: number): number {
  return chatEntries().filter((e) => e.startedAt <= at && (e.endedAt === undefined || e.endedAt >= at - IN_FLIGHT_SLACK_MS)).length;
}

function inFlightNow(): boolean {
  return chatEntries().some((e) => e.endedAt === undefined);
}

function resetFake(): void {
  fake.reset();
  fake.setFaults({ latencyMs: LATENCY });
}

/** Every `{lang}_*.jsonl` data file and `.meta.jsonl` sidecar of the finished dataset, by file name. */
async function datasetFiles(storage: Storage, buildId: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of await storage.list(`builds/${buildId}/dataset/`)) {
    const name = path.basename(key);
    if (/^[a-z]{2,3}_.+\.jsonl$/.test(name)) out[name] = (await storage.getText(key)) ?? '';
  }
  return out;
}

interface Run {
  dir: string;
  config: Config;
  storage: Storage;
}

function newRun(name: string, address?: string): Run {
  const dir = testDir(`faults-${name}`);
  return { dir, config: testConfig(dir, fake.url, input, address), storage: createFsStorage(path.join(dir, 'data')) };
}

/** Both workers in this process, optionally over another storage; `stop()` shuts them down. */
async function inProcessWorker(config: Config, storage?: Storage): Promise<{ stop(): Promise<void> }> {
  const workers = await createWorkers({ config, secrets: { llmApiKey: 'test-key' }, workflowBundlePath: inject('workflowBundlePath'), storage });
  const running = workers.run();
  return {
    async stop() {
      workers.shutdown();
      await running;
    },
  };
}

/** Asserts byte-identical output and logs the request count against the reference; returns the extra requests. */
async function expectSameDataset(run: Run, buildId: string, label: string, calls = chatEntries().length): Promise<number> {
  const files = await datasetFiles(run.storage, buildId);
  expect(Object.keys(files).sort()).toEqual(Object.keys(reference.files).sort());
  for (const [name, text] of Object.entries(files)) expect(text, `${label}: ${name}`).toBe(reference.files[name]);
  const extra = calls - reference.calls;
  console.log(`fault suite — ${label}: ${calls} LLM requests (undisturbed ${reference.calls}, extra ${extra})`);
  return extra;
}

async function statusOf(client: Client, workflowId: string): Promise<{ status: string; pending: string[] } | undefined> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    return { status: d.status.name, pending: (d.raw.pendingActivities ?? []).map((a) => a.activityType?.name ?? '') };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** A moment of the build, recognised from the server's view of its workflows (and the fake's log for LLM stages). */
interface Moment {
  name: string;
  reached(client: Client, buildId: string): Promise<boolean>;
}

const running = async (client: Client, id: string) => (await statusOf(client, id))?.status === 'RUNNING';

const MOMENTS: Moment[] = [
  {
    name: 'knowledge extraction',
    reached: async (client, b) => {
      for (const lang of ['zh', 'en']) {
        const s = await statusOf(client, `${b}/${lang}/knowledge`);
        if (s?.status === 'RUNNING' && s.pending.length > 0) return true;
      }
      return false;
    },
  },
  { name: 'the judge stage', reached: async (client, b) => inFlightNow() && (await running(client, `${b}/en/judge`)) },
  { name: 'dialogues', reached: async (client, b) => inFlightNow() && (await running(client, `${b}/zh/chat_specific`)) },
  {
    name: 'translation',
    reached: async (client, b) => {
      if (!inFlightNow()) return false;
      for (const stage of ['chat_agnostic', 'math', 'code']) if (await running(client, `${b}/zh/${stage}`)) return true;
      return false;
    },
  },
  {
    name: 'assembly',
    reached: async (client, b) => {
      const top = await statusOf(client, b);
      if (top?.status !== 'RUNNING') return false;
      if (top.pending.includes('assembleDataset')) return true;
      // Between the last language finishing and the assembly activity being scheduled also counts.
      const langs = await Promise.all(['en', 'zh'].map((l) => statusOf(client, `${b}/${l}`)));
      return langs.every((s) => s !== undefined && s.status !== 'RUNNING');
    },
  },
];

/** Polls until `moment` is reached; fails if the build closes first (the moment was missed). */
async function waitForMoment(client: Client, buildId: string, moment: Moment): Promise<void> {
  await waitUntil(
    async () => {
      if (await moment.reached(client, buildId)) return true;
      const top = await statusOf(client, buildId);
      if (top && top.status !== 'RUNNING') throw new Error(`build closed (${top.status}) before ${moment.name}`);
      return false;
    },
    120_000,
    moment.name,
  );
}

beforeAll(async () => {
  fake = await startFakeOpenAi({ faults: { latencyMs: LATENCY } });
  const inputs = testDir('faults-inputs');
  input = mergeConfigInput(
    { ...TINY_THRESHOLDS, languages: tinyLanguages(inputs, ['en', 'zh']) },
    {
      llm: { concurrency: 4 },
      agnostic: {
        quotas: { chat: 2, math: 2, code: 2 },
        sources: {
          chat: [{ path: path.join(FIXTURES, 'sharegpt-edge.jsonl'), format: 'sharegpt' }],
          math: [{ path: path.join(FIXTURES, 'e2e-metamath.json'), format: 'metamath' }],
          code: [{ path: path.join(FIXTURES, 'e2e-magicoder-oss.jsonl'), format: 'magicoder_oss' }],
        },
      },
    },
  ) as ConfigInput;
  resetFake();
  const run = newRun('reference');
  const worker = await inProcessWorker(run.config);
  try {
    const client = await testClient(run.config);
    const { buildId } = await startBuild(client, run.config);
    await waitForBuild(client, buildId);
    reference = { files: await datasetFiles(run.storage, buildId), calls: chatEntries().length, dir: run.dir, buildId };
  } finally {
    await worker.stop();
  }
  // Both pipelines produced output, so every case below exercises both.
  expect(Object.keys(reference.files)).toEqual(expect.arrayContaining(['en_chat_specific.jsonl', 'zh_chat_specific.jsonl', 'zh_math.jsonl', 'zh_code.jsonl', 'zh_chat_agnostic.jsonl']));
  expect(Object.keys(reference.files).some((n) => n.endsWith('.meta.jsonl'))).toBe(true);
  console.log(`fault suite — undisturbed: ${reference.calls} LLM requests, ${Object.keys(reference.files).length} files`);
}, 240_000);

afterAll(async () => {
  await fake?.stop();
});

describe('worker logs', () => {
  it('the undisturbed build left JSON-line activity logs carrying build id, language, stage and duration', () => {
    const lines = readFileSync(workerLogFile(reference.dir), 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const finished = lines.filter((l) => l.msg === 'activity finished');
    expect(finished.length).toBeGreaterThan(reference.calls);
    expect(finished.every((l) => l.buildId === reference.buildId && typeof l.ms === 'number' && typeof l.activity === 'string')).toBe(true);
    const tagged = new Set(finished.filter((l) => l.lang !== undefined && l.stage !== undefined).map((l) => `${String(l.lang)}/${String(l.stage)}`));
    expect([...tagged]).toEqual(expect.arrayContaining(['zh/chat_specific', 'zh/math']));
    expect(lines.some((l) => l.msg === 'activity started')).toBe(false); // start lines are debug, off by default
  });
});

describe('fault suite: byte-identical dataset, extra LLM requests ≤ requests in flight at the fault', () => {
  it.each(MOMENTS)(
    'worker SIGKILL during $name',
    async (moment) => {
      resetFake();
      const run = newRun(`kill-${moment.name.split(' ')[0]}`);
      const client = await testClient(run.config);
      const first = spawnWorker(run.config, run.dir);
      try {
        const { buildId } = await startBuild(client, run.config);
        await waitForMoment(client, buildId, moment);
        const killedAt = Date.now();
        first.child.kill('SIGKILL');
        await first.exited;
        const inFlight = inFlightAt(killedAt);
        await finishOnNewWorker(client, buildId, run.config, run.dir);
        const extra = await expectSameDataset(run, buildId, `SIGKILL during ${moment.name} (${inFlight} in flight)`);
        expect(extra).toBeGreaterThanOrEqual(0);
        expect(extra).toBeLessThanOrEqual(inFlight);
      } finally {
        first.child.kill('SIGKILL');
      }
    },
    CASE_TIMEOUT,
  );

  it(
    'Temporal server restart during dialogues',
    async () => {
      resetFake();
      const scratch = testDir('faults-restart-server');
      const serverOpts = { binary: inject('temporalBinary'), port: await freePort(), namespace: 'default', dbFile: path.join(scratch, 'temporal.sqlite'), logFile: path.join(scratch, 'temporal.log') };
      let server = await startDevServer(serverOpts);
      const run = newRun('restart', server.address);
      const worker = spawnWorker(run.config, run.dir);
      try {
        let client = await testClient(run.config);
        const { buildId } = await startBuild(client, run.config);
        await waitForMoment(client, buildId, MOMENTS[2]!);
        const stoppedAt = Date.now();
        await server.stop();
        const inFlight = inFlightAt(stoppedAt) + chatEntries().filter((e) => e.startedAt > stoppedAt).length;
        server = await startDevServer(serverOpts);
        client = await testClient(run.config);
        await waitForBuild(client, buildId);
        const extra = await expectSameDataset(run, buildId, `server restart (${inFlight} in flight)`);
        expect(extra).toBeGreaterThanOrEqual(0);
        expect(extra).toBeLessThanOrEqual(inFlight);
      } finally {
        worker.child.kill('SIGTERM');
        await worker.exited;
        await server.stop();
      }
    },
    CASE_TIMEOUT,
  );

  // Faults the LLM answers with: every failed request is retried by Temporal, every good answer is needed once.
  it.each([
    { name: 'an LLM outage many retry intervals long', faults: () => ({ outage: { untilMs: Date.now() + 10_000 } }), outcome: 'outage', least: 8 },
    { name: 'a 429 storm with Retry-After', faults: () => ({ rateLimit: { every: 2, retryAfterMs: 200 } }), outcome: 'rate_limit', least: 5 },
    { name: 'malformed LLM bodies', faults: () => ({ malformedRate: 0.3 }), outcome: 'malformed', least: 3 },
  ])(
    '$name',
    async ({ name, faults, outcome, least }) => {
      resetFake();
      const run = newRun(outcome);
      fake.setFaults(faults());
      const worker = await inProcessWorker(run.config);
      try {
        const client = await testClient(run.config);
        const { buildId } = await startBuild(client, run.config);
        await waitForBuild(client, buildId);
        const faulted = chatEntries().filter((e) => e.outcome === outcome).length;
        const answered = chatEntries().filter((e) => e.outcome === 'ok' || e.outcome === 'truncated').length;
        await expectSameDataset(run, buildId, `${name} (${faulted} faulted answers)`);
        expect(faulted).toBeGreaterThanOrEqual(least);
        // Each good answer is cached and paid once: the faults cost retries, never a second good answer.
        expect(answered).toBe(reference.calls);
      } finally {
        await worker.stop();
      }
    },
    CASE_TIMEOUT,
  );

  it(
    'a storage write failure',
    async () => {
      resetFake();
      const run = newRun('storage');
      // The first write of a dialogue output and the first two writes of the assembled dataset fail; their activities retry.
      const dialogueWrites = faultyStorage(createFsStorage(path.join(run.dir, 'data')), /\/zh\/chat_specific\//, 1);
      const storage = faultyStorage(dialogueWrites, /\/dataset\//, 2);
      const worker = await inProcessWorker(run.config, storage);
      try {
        const client = await testClient(run.config);
        const { buildId } = await startBuild(client, run.config);
        await waitForBuild(client, buildId);
        expect(dialogueWrites.failed).toHaveLength(1);
        expect(storage.failed).toHaveLength(2);
        const extra = await expectSameDataset(run, buildId, `storage write failures on ${[...dialogueWrites.failed, ...storage.failed].join(', ')}`);
        expect(extra).toBe(0); // answers are cached before any output write, so a retried write re-asks nothing
      } finally {
        await worker.stop();
      }
    },
    CASE_TIMEOUT,
  );

  it(
    'resume after the build was terminated during dialogues pays no finished LLM call twice',
    async () => {
      resetFake();
      const run = newRun('resume');
      const worker = await inProcessWorker(run.config);
      try {
        const client = await testClient(run.config);
        const { buildId } = await startBuild(client, run.config);
        await waitForMoment(client, buildId, MOMENTS[2]!);
        const terminatedAt = Date.now();
        await client.workflow.getHandle(buildId).terminate('fault suite');
        const before = chatEntries().filter((e) => e.startedAt <= terminatedAt).length;
        const inFlight = inFlightAt(terminatedAt);
        const resumed = await resumeBuild(client, buildId);
        expect(resumed.previousStatus).toBe('TERMINATED');
        const resumedAt = Date.now();
        await waitForBuild(client, buildId);
        const after = chatEntries().filter((e) => e.startedAt >= resumedAt).length;
        await expectSameDataset(run, buildId, `resume after terminate (${before} requests before, ${inFlight} in flight, ${after} after)`);
        expect(after).toBeLessThanOrEqual(reference.calls - before + inFlight);
      } finally {
        await worker.stop();
      }
    },
    CASE_TIMEOUT,
  );
});

