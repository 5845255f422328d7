/**
 * Typed client operations behind the CLI: they return data and throw errors, never print or exit.
 */
import { randomBytes } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, defaultFailureConverter, defaultPayloadConverter } from '@temporalio/common';
import type { Config, WorkerSecrets } from './config';
import { newBuildId } from './names';
import { connectionOptions } from './temporal-connection';
import type { BuildInput, BuildResult } from './workflows/build-dataset';
import { carryOver, controlQuery, pauseSignal, setControlSignal, unpauseSignal, type BuildControlProgress, type CarriedControl, type ReceivedSignal } from './workflows/control';

export interface BuildHandleInfo {
  buildId: string;
  runId: string;
  uiUrl: string;
}

/** Connects a Temporal client (fails fast with the address when the server is unreachable). */
export async function connectClient(config: Config, secrets: WorkerSecrets): Promise<Client> {
  const connection = await Connection.connect({ ...connectionOptions(config, secrets), connectTimeout: 5_000 });
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** Temporal UI page of a workflow. */
export function uiUrlFor(config: Config, workflowId: string, runId?: string): string {
  const base = `${config.temporal.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}

/** Starts a build of `config`; the build id is the top workflow's id. */
export async function startBuild(client: Client, config: Config, opts: { buildId?: string } = {}): Promise<BuildHandleInfo> {
  const buildId = opts.buildId ?? newBuildId(new Date(), randomBytes(2).toString('hex'));
  const handle = await client.workflow.start('buildDatasetWorkflow', {
    workflowId: buildId,
    taskQueue: config.temporal.workTaskQueue,
    args: [{ buildId, config }],
    searchAttributes: { UltralinkBuild: [buildId], UltralinkState: ['running'] },
    staticSummary: `ultralink build: ${Object.keys(config.languages).join(', ')}`,
  });
  return { buildId, runId: handle.firstExecutionRunId, uiUrl: uiUrlFor(config, buildId) };
}

/** Waits for a build to finish and returns its result (throws WorkflowFailedError on failure). */
export async function waitForBuild(client: Client, buildId: string): Promise<BuildResult> {
  return client.workflow.getHandle(buildId).result();
}

/** Why a build failed: the innermost failure's message and type, and the stage workflow and activity it came from. */
export interface BuildFailure {
  message: string;
  type?: string;
  /** The innermost child workflow on the way (`<build>/<lang>/<stage>`), when the failure came from one. */
  workflowId?: string;
  activity?: string;
}

/** The root cause of a failure chain (a WorkflowFailedError from `waitForBuild`, or a failure decoded from history). */
export function rootCause(err: unknown): BuildFailure | undefined {
  if (!(err instanceof Error)) return undefined;
  const out: BuildFailure = { message: err.message };
  for (let cur: unknown = err; cur instanceof Error; cur = cur.cause) {
    if (cur instanceof ChildWorkflowFailure) out.workflowId = cur.execution.workflowId ?? undefined;
    if (cur instanceof ActivityFailure) out.activity = cur.activityType;
    out.message = cur.message;
    out.type = cur instanceof ApplicationFailure ? (cur.type ?? undefined) : undefined;
  }
  return out;
}

/** The root cause of a closed build's latest run, read from its history (undefined unless it failed). */
export async function buildFailure(client: Client, buildId: string): Promise<BuildFailure | undefined> {
  const history = await client.workflow.getHandle(buildId).fetchHistory();
  const last = history.events?.[history.events.length - 1];
  const failure = last?.workflowExecutionFailedEventAttributes?.failure;
  return failure ? rootCause(defaultFailureConverter.failureToError(failure, defaultPayloadConverter)) : undefined;
}

export interface BuildStatus {
  buildId: string;
  status: string;
  startTime?: Date;
  closeTime?: Date;
  historyLength: number;
  searchAttributes: Record<string, unknown>;
}

/** Status of one build (or undefined when no such workflow exists). */
export async function buildStatus(client: Client, buildId: string): Promise<BuildStatus | undefined> {
  try {
    const d = await client.workflow.getHandle(buildId).describe();
    return {
      buildId,
      status: d.status.name,
      startTime: d.startTime,
      closeTime: d.closeTime,
      historyLength: d.historyLength,
      searchAttributes: d.searchAttributes as Record<string, unknown>,
    };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** Builds known to the server, newest first; a resumed build is listed once, as its latest run (the server lists running runs first, then closed ones by close time). */
export async function listBuilds(client: Client, limit = 20): Promise<BuildStatus[]> {
  const out: BuildStatus[] = [];
  const seen = new Set<string>();
  for await (const w of client.workflow.list({ query: `WorkflowType = 'buildDatasetWorkflow'` })) {
    if (seen.has(w.workflowId)) continue;
    seen.add(w.workflowId);
    out.push({ buildId: w.workflowId, status: w.status.name, startTime: w.startTime, closeTime: w.closeTime, historyLength: w.historyLength, searchAttributes: w.searchAttributes as Record<string, unknown> });
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * Continues a closed (failed, cancelled, terminated, timed-out) build as a new run of the same workflow id
 * with the same input. Every output is keyed by build id and every LLM answer is cached, so the new run
 * skips finished work and pays for no finished call. The spend reported so far and the budget and concurrency
 * last set go over to the new run (`carried`), so the budget covers the whole build, not each run.
 */
export async function resumeBuild(client: Client, buildId: string): Promise<BuildHandleInfo & { previousStatus: string; carried: CarriedControl }> {
  const handle = client.workflow.getHandle(buildId);
  const described = await handle.describe();
  if (described.status.name === 'RUNNING') throw new Error(`build ${buildId} is still running`);
  if (described.status.name === 'COMPLETED') throw new Error(`build ${buildId} already completed`);
  const history = await handle.fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  if (!payload) throw new Error(`cannot read the input of build ${buildId} from its history`);
  const input = fromPayload<BuildInput>(payload);
  const signals: ReceivedSignal[] = [];
  for (const event of history.events ?? []) {
    const signalled = event.workflowExecutionSignaledEventAttributes;
    const arg = signalled?.input?.payloads?.[0];
    if (signalled?.signalName && arg) signals.push({ name: signalled.signalName, arg: fromPayload(arg) });
  }
  const carried = carryOver(input.config.control.budgetUsd, input.carried, signals);
  const next = await client.workflow.start('buildDatasetWorkflow', {
    workflowId: buildId,
    taskQueue: started?.taskQueue?.name ?? input.config.temporal.workTaskQueue,
    args: [{ ...input, carried }],
    searchAttributes: { UltralinkBuild: [buildId], UltralinkState: ['running'] },
    staticSummary: `ultralink build (resumed): ${Object.keys(input.config.languages).join(', ')}`,
  });
  return { buildId, runId: next.firstExecutionRunId, uiUrl: uiUrlFor(input.config, buildId), previousStatus: described.status.name, carried };
}

/** Decodes one payload read from a history with the default converter. */
function fromPayload<T>(payload: unknown): T {
  return defaultPayloadConverter.fromPayload<T>(payload as Parameters<typeof defaultPayloadConverter.fromPayload>[0]);
}

/** Requests cancellation of a build; finished outputs stay in storage. */
export async function cancelBuild(client: Client, buildId: string): Promise<void> {
  await client.workflow.getHandle(buildId).cancel();
}

/** Stops the build from starting LLM work; calls in flight finish. */
export async function pauseBuild(client: Client, buildId: string): Promise<void> {
  await client.workflow.getHandle(buildId).signal(pauseSignal);
}

/** Lets a paused build (or a review gate) continue; a budget pause needs `setBuild({ budget })`. */
export async function unpauseBuild(client: Client, buildId: string): Promise<void> {
  await client.workflow.getHandle(buildId).signal(unpauseSignal);
}

/** temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY (@temporalio/proto is not a direct dependency). */
const TASK_QUEUE_TYPE_ACTIVITY = 2;

/** What `setBuild` may change on a running build. */
export interface SetBuildOptions {
  /** Fleet-wide LLM calls per second: the server-side rate limit of the build's LLM task queue. */
  rate?: number;
  /** Cap on one stage's LLM calls in flight across all workers (control.concurrency), split across its batches. */
  concurrency?: number;
  /** New budget in USD; raising it past the spend resumes a budget-paused build. */
  budget?: number;
}

/** Changes rate, concurrency or budget of a running build; returns its control state afterwards. */
export async function setBuild(client: Client, buildId: string, opts: SetBuildOptions): Promise<BuildControlProgress> {
  const handle = client.workflow.getHandle(buildId);
  if (opts.rate !== undefined) {
    if (!(opts.rate > 0)) throw new Error(`rate must be positive, got ${opts.rate}`);
    const input = await buildInputOf(client, buildId);
    await client.workflowService.updateTaskQueueConfig({
      namespace: client.options.namespace,
      identity: client.options.identity,
      taskQueue: input.config.temporal.llmTaskQueue,
      taskQueueType: TASK_QUEUE_TYPE_ACTIVITY,
      updateQueueRateLimit: { rateLimit: { requestsPerSecond: opts.rate }, reason: `ultralink set ${buildId} --rate ${opts.rate}` },
    });
  }
  if (opts.concurrency !== undefined && !(Number.isInteger(opts.concurrency) && opts.concurrency > 0)) throw new Error(`concurrency must be a positive integer, got ${opts.concurrency}`);
  if (opts.budget !== undefined && !(opts.budget > 0)) throw new Error(`budget must be positive, got ${opts.budget}`);
  if (opts.concurrency !== undefined || opts.budget !== undefined) {
    await handle.signal(setControlSignal, { concurrency: opts.concurrency, budgetUsd: opts.budget });
  }
  return handle.query(controlQuery);
}

/** Live control state of a running build (paused, budget, spend). */
export async function buildControl(client: Client, buildId: string): Promise<BuildControlProgress> {
  return client.workflow.getHandle(buildId).query(controlQuery);
}

/** The input a build was started with (first event of its current run). */
async function buildInputOf(client: Client, buildId: string): Promise<BuildInput> {
  const page = await client.workflowService.getWorkflowExecutionHistory({ namespace: client.options.namespace, execution: { workflowId: buildId }, maximumPageSize: 1 });
  const payload = page.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new Error(`cannot read the input of build ${buildId} from its history`);
  return fromPayload<BuildInput>(payload);
}
