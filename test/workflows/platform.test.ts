/**
 * Platform guarantees on the real dev server with the fake OpenAI server: a tiny build completes with exactly
 * its quota of dialogues per language, survives a worker SIGKILL, an LLM outage and a server restart, fails
 * fast on a 401 naming the key variable, and never writes the API key into workflow history.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { buildFailure, buildStatus, rootCause, startBuild, waitForBuild } from '../../src/client';
import { freePort, startDevServer } from '../../src/devtools/temporal';
import { createFsStorage } from '../../src/storage/fs-storage';
import { startFakeOpenAi, type FakeOpenAi } from '../support/fake-openai';
import { finishOnNewWorker, spawnWorker, startWorker, testClient, testConfig, testDir, waitUntil } from '../support/harness';
import { TINY_THRESHOLDS, tinyLanguages } from '../support/tiny-data';
import { mergeConfigInput, type ConfigInput } from '../../src/config';

let fake: FakeOpenAi;
beforeAll(async () => {
  fake = await startFakeOpenAi();
});
afterAll(async () => {
  await fake.stop();
});

/** Lines of each chat_specific file of a finished build. */
async function datasetLines(dir: string, buildId: string): Promise<Record<string, number>> {
  const storage = createFsStorage(path.join(dir, 'data'));
  const out: Record<string, number> = {};
  for (const key of await storage.list(`builds/${buildId}/dataset/`)) {
    if (!key.endsWith('_chat_specific.jsonl')) continue;
    const text = (await storage.getText(key)) ?? '';
    out[path.basename(key)] = text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l)).length;
  }
  return out;
}

/** A tiny config: the given languages with one dialogue each. */
function tiny(dir: string, langs: Array<'en' | 'zh'>, extra: ConfigInput = {}): ConfigInput {
  return mergeConfigInput({ ...TINY_THRESHOLDS, languages: tinyLanguages(dir, langs) }, extra) as ConfigInput;
}

describe('probe build on the dev server', () => {
  it('stores exactly one result per language and keeps the API key out of every history', async () => {
    fake.reset();
    const dir = testDir('probe');
    const config = testConfig(dir, fake.url, tiny(dir, ['en', 'zh']));
    const secret = 'sk-live-ULTRALINK-TEST-SECRET-0123456789';
    const worker = await startWorker(config, { llmApiKey: secret });
    try {
      const client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      const result = await waitForBuild(client, buildId);
      expect(result.dataset.files).toMatchObject({ 'en_chat_specific.jsonl': 1, 'zh_chat_specific.jsonl': 1 });
      expect(await datasetLines(dir, buildId)).toEqual({ 'en_chat_specific.jsonl': 1, 'zh_chat_specific.jsonl': 1 });
      expect(fake.log.filter((e) => e.path.endsWith('/chat/completions') && e.status === 200).length).toBeGreaterThanOrEqual(4);
      expect(fake.log.every((e) => e.hadAuthorization)).toBe(true);

      const ids = [buildId, `${buildId}/en`, `${buildId}/zh`, `${buildId}/en/knowledge`, `${buildId}/zh/chat_specific`, `${buildId}/zh/chat_specific/0`];
      for (const id of ids) {
        const history = await client.workflow.getHandle(id).fetchHistory();
        const text = historyText(history);
        expect(text.length).toBeGreaterThan(1000);
        expect(text).not.toContain(secret);
        expect(text).toContain('ULTRALINK_LLM_API_KEY'); // the variable's name travels, never its value
      }
    } finally {
      await worker.stop();
    }
  });

  it('fails fast on 401 with a message naming the key variable', async () => {
    fake.reset();
    fake.setFaults({ authFail: true });
    const dir = testDir('auth');
    const config = testConfig(dir, fake.url, tiny(dir, ['en']));
    try {
      await failedBuild(config, async (err) => {
        expect(JSON.stringify(errorChain(err))).toContain('ULTRALINK_LLM_API_KEY');
        expect(fake.log.filter((e) => e.status === 401)).toHaveLength(1); // not retried
      });
    } finally {
      fake.reset();
    }
  });

  it('a missing SFT file fails the build on its first attempt, and the client reads the cause and a failed state', async () => {
    fake.reset();
    const dir = testDir('missing-sft');
    const missing = path.join(dir, 'metamath-mistyped.json');
    // Started through the client, as a config the CLI did not check (a worker's file, an S3 key) would be.
    const config = testConfig(dir, fake.url, tiny(dir, ['en', 'zh'], { agnostic: { quotas: { chat: 0, math: 1, code: 0 }, sources: { math: [{ path: missing, format: 'metamath' }] } } }));
    await failedBuild(config, async (err, client, buildId) => {
      const cause = rootCause(err);
      expect(cause).toMatchObject({ type: 'BadInput', activity: 'prepareSource' });
      expect(cause?.message).toContain(`agnostic source ${missing} cannot be read (ENOENT)`);
      // From history too (what `status` and `resume` print), and the list shows it failed, not running.
      expect(await buildFailure(client, buildId)).toEqual(cause);
      const status = await buildStatus(client, buildId);
      expect(status?.status).toBe('FAILED');
      expect(status?.searchAttributes.UltralinkState).toEqual(['failed']);
      const history = await client.workflow.getHandle(buildId).fetchHistory();
      const attempts = history.events!.flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 0] : []));
      expect(Math.max(...attempts)).toBe(1); // never retried
      expect(fake.log).toHaveLength(0); // and no LLM call was paid for
    });
  });

  it('rides out an LLM outage many retry intervals long with no action', async () => {
    fake.reset();
    const dir = testDir('outage');
    // Retry intervals are scaled down: 100 ms initial, 1 s max, so a 12 s outage spans many of them.
    const config = testConfig(dir, fake.url, tiny(dir, ['en']));
    fake.setFaults({ outage: { untilMs: Date.now() + 12_000 } });
    const worker = await startWorker(config);
    try {
      const client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      await waitForBuild(client, buildId);
      const outageAnswers = fake.log.filter((e) => e.status === 503).length;
      expect(outageAnswers).toBeGreaterThanOrEqual(8);
      expect(await datasetLines(dir, buildId)).toEqual({ 'en_chat_specific.jsonl': 1 });
    } finally {
      fake.reset();
      await worker.stop();
    }
  });

  it('completes after the worker is SIGKILLed during a slow LLM call, with one result per language', async () => {
    fake.reset();
    fake.setFaults({ latencyMs: 4_000 });
    const dir = testDir('sigkill');
    const config = testConfig(dir, fake.url, tiny(dir, ['en', 'zh']));
    const first = spawnWorker(config, dir);
    try {
      const client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      await waitUntil(() => fake.log.some((e) => e.path.endsWith('/chat/completions')), 90_000, 'an LLM call in flight');
      first.child.kill('SIGKILL');
      await first.exited;
      fake.setFaults({ latencyMs: 200 });
      await finishOnNewWorker(client, buildId, config, dir);
      expect(await datasetLines(dir, buildId)).toEqual({ 'en_chat_specific.jsonl': 1, 'zh_chat_specific.jsonl': 1 });
    } finally {
      first.child.kill('SIGKILL');
      fake.reset();
    }
  });

  it('completes when the Temporal server process is restarted mid-run', async () => {
    fake.reset();
    fake.setFaults({ latencyMs: 3_000 });
    const dir = testDir('restart');
    const port = await freePort();
    const dbFile = path.join(dir, 'temporal.sqlite');
    const serverOpts = { binary: inject('temporalBinary'), port, namespace: 'default', dbFile, logFile: path.join(dir, 'temporal.log') };
    let server = await startDevServer(serverOpts);
    const config = testConfig(dir, fake.url, tiny(dir, ['en', 'zh']), server.address);
    const worker = spawnWorker(config, dir);
    try {
      let client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      await waitUntil(() => fake.log.some((e) => e.path.endsWith('/chat/completions')), 90_000, 'an LLM call in flight');
      await server.stop();
      server = await startDevServer(serverOpts);
      client = await testClient(config);
      await waitForBuild(client, buildId);
      expect(await datasetLines(dir, buildId)).toEqual({ 'en_chat_specific.jsonl': 1, 'zh_chat_specific.jsonl': 1 });
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
      await server.stop();
      fake.reset();
    }
  });
});

/** History as JSON with every payload's bytes decoded, so a secret cannot hide in base64. */
/** Runs a build on an in-process worker, expects it to fail, and hands the failure to `check` while the worker is up. */
async function failedBuild(config: ReturnType<typeof testConfig>, check: (err: unknown, client: Awaited<ReturnType<typeof testClient>>, buildId: string) => Promise<void>): Promise<void> {
  const worker = await startWorker(config);
  try {
    const client = await testClient(config);
    const { buildId } = await startBuild(client, config);
    const err = await waitForBuild(client, buildId).catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    await check(err, client, buildId);
  } finally {
    await worker.stop();
  }
}

function historyText(history: unknown): string {
  const raw = JSON.stringify(history, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v));
  return raw.replace(/"data":"([A-Za-z0-9+/=]+)"/g, (_m, b64: string) => `"data":${JSON.stringify(Buffer.from(b64, 'base64').toString('utf8'))}`);
}

function errorChain(err: unknown): string[] {
  const out: string[] = [];
  for (let e = err as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) out.push(String(e.message));
  return out;
}
