/** Activity proxies: timeouts and retry policy come from the run's config (tests scale them down). */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { Config } from '../config';

export type Activities = ReturnType<typeof createActivities>;

/** Failure types that no retry can fix. */
const PERMANENT = ['LlmAuthError', 'LlmQuotaError', 'LlmBadRequestError', 'LlmNotFoundError', 'PromptTooLong', 'MissingInput', 'BadInput', 'ConfigError', 'StorageAuthError', 'InvalidKeyError', 'DumpNotFoundError', 'DumpFormatError', 'Bz2DecoderMissingError'];

function retryOf(config: Config): ActivityOptions['retry'] {
  return {
    initialInterval: config.retry.initialIntervalMs,
    maximumInterval: config.retry.maximumIntervalMs,
    backoffCoefficient: config.retry.backoffCoefficient,
    nonRetryableErrorTypes: PERMANENT,
  };
}

/** LLM calls: rate-limited queue, no attempt cap, hours of schedule-to-close so outages are survived unattended. */
export function llmActivities(config: Config) {
  return proxyActivities<Activities>({
    taskQueue: config.temporal.llmTaskQueue,
    startToCloseTimeout: config.retry.llmStartToCloseMs,
    scheduleToCloseTimeout: config.retry.llmScheduleToCloseMs,
    heartbeatTimeout: config.retry.heartbeatTimeoutMs,
    retry: retryOf(config),
  });
}

/**
 * A whole dialogue on the LLM task queue: its calls run in turn, so an attempt may take one LLM attempt per
 * planned call; heartbeats during each call notice a dead worker long before that. A cancelled dialogue
 * finishes and stores the call in flight before it stops, and the workflow waits for that (the default
 * WAIT_CANCELLATION_COMPLETED), so a restarted attempt never runs the same call beside it.
 */
export function dialogueActivities(config: Config) {
  return proxyActivities<Activities>({
    taskQueue: config.temporal.llmTaskQueue,
    startToCloseTimeout: config.retry.llmStartToCloseMs * 2 * config.dialogue.maxTurns,
    scheduleToCloseTimeout: config.retry.llmScheduleToCloseMs,
    heartbeatTimeout: config.retry.heartbeatTimeoutMs,
    retry: retryOf(config),
  });
}

/** CPU and storage work: long start-to-close for big shards, heartbeats for progress and resume. */
export function workActivities(config: Config) {
  return proxyActivities<Activities>({
    taskQueue: config.temporal.workTaskQueue,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: config.retry.heartbeatTimeoutMs,
    retry: retryOf(config),
  });
}
