/** Integration harness: configs pointing at the shared dev server, workers in-process or as killable processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, openSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { stringify } from 'yaml';
import { Client, Connection } from '@temporalio/client';
import { waitForBuild } from '../../src/client';
import { mergeConfigInput, resolveConfig, type Config, type ConfigInput } from '../../src/config';
import { createWorkers } from '../../src/worker';
import type { FakeOpenAi } from './fake-openai';
import { REPO_ROOT } from './shared-data';

/** A fresh per-test directory under the run's scratch dir. */
export function testDir(name: string): string {
  const dir = path.join(inject('scratchDir'), `${name}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A config for one test: its own task queues and state dir, fast retries, the fake LLM at `llmUrl`. */
export function testConfig(dir: string, llmUrl: string, overrides: ConfigInput = {}, address = inject('temporalAddress')): Config {
  const suffix = randomBytes(4).toString('hex');
  const base: ConfigInput = {
    stateDir: dir,
    seed: 7,
    languages: { en: {}, zh: {} },
    temporal: { address, llmTaskQueue: `llm-${suffix}`, workTaskQueue: `work-${suffix}` },
    llm: { baseUrl: llmUrl, model: 'fake-model', maxTokens: 256, timeoutMs: 10_000 },
    retry: { initialIntervalMs: 100, maximumIntervalMs: 1_000, backoffCoefficient: 2, llmStartToCloseMs: 20_000, heartbeatTimeoutMs: 3_000 },
    storage: { kind: 'local', root: 'data' },
  };
  if (overrides.languages) base.languages = overrides.languages; // a test's language list replaces the default one
  return resolveConfig(mergeConfigInput(base, overrides));
}

/** A client on the shared dev server (or the given address). */
export async function testClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address });
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** Runs both workers in this process until `stop()`. */
export async function startWorker(config: Config, secrets: { llmApiKey?: string } = { llmApiKey: 'test-key' }) {
  const workers = await createWorkers({ config, secrets, workflowBundlePath: inject('workflowBundlePath') });
  const running = workers.run();
  return {
    async stop() {
      workers.shutdown();
      await running;
    },
  };
}

/** Runs `ultralink worker` as a child process (for SIGKILL tests); env carries the API key like production. */
export function spawnWorker(config: Config, dir: string, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; exited: Promise<number | null> } {
  const configPath = path.join(dir, `worker-${randomBytes(3).toString('hex')}.yaml`);
  writeFileSync(configPath, stringify(config));
  const log = openSync(path.join(dir, 'worker.log'), 'a');
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/ultralink.js'), 'worker', '-c', configPath, '--bundle', inject('workflowBundlePath')], {
    cwd: REPO_ROOT,
    stdio: ['ignore', log, log],
    env: { ...process.env, ULTRALINK_LLM_API_KEY: 'test-key', ...env },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

/** Finishes a build on a fresh worker process (the test killed the one before), then stops that worker. */
export async function finishOnNewWorker(client: Client, buildId: string, config: Config, dir: string): Promise<void> {
  const worker = spawnWorker(config, dir);
  try {
    await waitForBuild(client, buildId);
  } finally {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
}

/** Polls `check` until it returns true (or throws after `timeoutMs`). */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 60_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Waits until no chat call of `fake` is open and none has started for `quietMs` (what a pause must reach);
 * returns when the last call ended, so a test can assert that none starts after it.
 */
export async function llmDrained(fake: FakeOpenAi, quietMs = 600): Promise<number> {
  const calls = () => fake.log.filter((e) => e.path.endsWith('/chat/completions'));
  for (;;) {
    await waitUntil(() => calls().every((e) => e.endedAt !== undefined), 60_000, 'in-flight LLM calls to finish');
    const since = Math.max(0, ...calls().map((e) => e.endedAt!));
    await new Promise((r) => setTimeout(r, quietMs));
    if (calls().every((e) => e.startedAt <= since)) return since;
  }
}
