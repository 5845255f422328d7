/**
 * The worker: one process polls two task queues. The work queue hosts workflows and CPU/IO activities;
 * the LLM queue hosts LLM calls, capped per worker by concurrency and fleet-wide by the queue's rate.
 * SIGINT/SIGTERM shut it down gracefully (the SDK runtime's default shutdown signals).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode, type LogLevel, type LogMetadata, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities } from './activities';
import type { Config, WorkerSecrets } from './config';
import { stateDirOf, toolEnv } from './config';
import { createBackend } from './llm/backend';
import { createResponseCache } from './llm/cache';
import { createGateway } from './llm/gateway';
import { countPromptTokens } from './llm/prompt-tokens';
import type { LlmBackend } from './llm/types';
import { activityLogInterceptors, createLogger, workerLogFile, type Logger } from './logging';
import { createStorage } from './storage';
import type { Storage } from './storage/storage';
import { connectionOptions } from './temporal-connection';

export interface WorkerOptions {
  config: Config;
  secrets: WorkerSecrets;
  /** A prebuilt workflow bundle (production, tests); otherwise this code version's cached bundle (built on first use). */
  workflowBundlePath?: string;
  /** Backend override (tests inject nothing here; the demo passes a shared local model). */
  backend?: LlmBackend;
  log?: (msg: string) => void;
  /** Debug-level structured logs (the `--verbose` flag); otherwise info to the log file, warnings to stderr. */
  verbose?: boolean;
  /** Storage override (fault-injection tests); otherwise built from `config.storage`. */
  storage?: Storage;
  /** Structured logger override; otherwise JSON lines to `<stateDir>/logs/worker.log` (see src/logging.ts). */
  logger?: Logger;
}

/** Bundles the workflow code once (webpack + swc), for reuse by several workers. */
export async function buildWorkflowBundle(): Promise<{ code: string }> {
  const ts = path.join(__dirname, 'workflows', 'index.ts');
  const workflowsPath = existsSync(ts) ? ts : path.join(__dirname, 'workflows', 'index.js');
  return bundleWorkflowCode({ workflowsPath, logger: quietLogger });
}

/**
 * The workflow bundle of this code version, built once and kept under the cache dir: bundling (webpack + swc)
 * costs seconds of CPU at every worker start, most of a small job's overhead. The key hashes every source file
 * a bundle can include (all of src/) and the lockfile (the SDK's version), so a changed line or an upgraded
 * dependency builds a new one.
 */
export async function cachedWorkflowBundle(cacheDir: string): Promise<{ code: string; cached: boolean }> {
  const file = path.join(cacheDir, 'workflow-bundles', `${sourceHash()}.js`);
  if (existsSync(file)) return { code: readFileSync(file, 'utf8'), cached: true };
  const { code } = await buildWorkflowBundle();
  mkdirSync(path.dirname(file), { recursive: true });
  // Written beside and renamed: a worker killed mid-write never leaves a truncated bundle to load.
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, code);
  renameSync(partial, file);
  return { code, cached: false };
}

/** Content hash of the source tree beside this file (ts or compiled js) and the lockfile above it. */
function sourceHash(): string {
  const hash = createHash('sha256');
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (/\.(ts|js|json|yaml)$/.test(entry.name)) hash.update(path.relative(__dirname, full)).update('\0').update(readFileSync(full)).update('\0');
    }
  };
  visit(__dirname);
  const lock = path.join(__dirname, '..', 'package-lock.json');
  if (existsSync(lock)) hash.update(readFileSync(lock));
  return hash.digest('hex').slice(0, 24);
}

const quiet = () => {};
const quietLogger = { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: (m: string) => console.error(m), log: quiet };

/** The SDK's console logger without the one warning our two-queue layout makes expected. */
class RuntimeLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    // The LLM-queue worker runs activities only, by design; the SDK warns about that at every start.
    if (message.startsWith('No workflows registered')) return;
    super.log(level, message, meta);
  }
}

let runtimeInstalled = false;

/** Quiet SDK logs unless verbose; the runtime can be installed once per process. */
function installRuntime(verbose: boolean): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new RuntimeLogger(verbose ? 'INFO' : 'WARN') });
  } catch {
    // Already installed by an earlier worker in this process (tests); keep it.
  }
}

/** Creates both workers; `run()` resolves after a graceful shutdown. */
export async function createWorkers(opts: WorkerOptions): Promise<{ run(): Promise<void>; shutdown(): void; backend: LlmBackend }> {
  const { config } = opts;
  installRuntime(opts.verbose ?? false);
  const stateDir = stateDirOf(config);
  const storage = opts.storage ?? createStorage(config.storage, { stateDir });
  const logger = opts.logger ?? createLogger({ verbose: opts.verbose, file: workerLogFile(stateDir) });
  const interceptors = { activity: [activityLogInterceptors(logger)] };
  const backend = opts.backend ?? (await createBackend(config, opts.secrets, path.join(toolEnv().cacheDir, 'models')));
  const gateway = createGateway({ backend, cache: createResponseCache(storage), contextWindow: config.llm.contextWindow, countPromptTokens });
  const activities = createActivities({ gateway, storage });
  const connection = await NativeConnection.connect(connectionOptions(config, opts.secrets));
  const workflowBundle: WorkflowBundleOption =
    opts.workflowBundlePath && existsSync(opts.workflowBundlePath) ? { code: readFileSync(opts.workflowBundlePath, 'utf8') } : { code: (await cachedWorkflowBundle(toolEnv().cacheDir)).code };
  const namespace = config.temporal.namespace;
  const work = await Worker.create({
    connection,
    namespace,
    taskQueue: config.temporal.workTaskQueue,
    workflowBundle,
    activities,
    interceptors,
    maxConcurrentActivityTaskExecutions: config.worker.workConcurrency,
    maxConcurrentWorkflowTaskExecutions: config.worker.workflowConcurrency,
  });
  const llm = await Worker.create({
    connection,
    namespace,
    taskQueue: config.temporal.llmTaskQueue,
    activities,
    interceptors,
    // The embedded model runs `parallelSequences` generations at once: more activity slots would only queue
    // calls inside the worker, where they age towards their start-to-close timeout instead of waiting on the server.
    maxConcurrentActivityTaskExecutions: config.llm.baseUrl ? config.llm.concurrency : Math.min(config.llm.concurrency, config.llm.local.parallelSequences),
    maxTaskQueueActivitiesPerSecond: config.llm.ratePerSecond,
    // A dialogue hears of a pause (an activity cancellation) only with a heartbeat's answer: at most every
    // 5 s rather than the default 0.8 × heartbeat timeout (24 s), so a pause stops dialogues within seconds.
    maxHeartbeatThrottleInterval: '5s',
  });
  logger.info({ workTaskQueue: config.temporal.workTaskQueue, llmTaskQueue: config.temporal.llmTaskQueue, address: config.temporal.address, model: backend.model }, 'worker started');
  opts.log?.(`worker polling ${config.temporal.workTaskQueue} and ${config.temporal.llmTaskQueue} on ${config.temporal.address} (LLM: ${backend.model})`);
  return {
    backend,
    async run() {
      try {
        await Promise.all([work.run(), llm.run()]);
      } finally {
        await connection.close();
        await backend.close?.();
      }
    },
    shutdown() {
      work.shutdown();
      llm.shutdown();
    },
  };
}
