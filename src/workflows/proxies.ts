/** Activity proxies: timeouts and retry policy come from the run's config (tests scale them down). */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { Config } from '../config';

export type Activities = ReturnType<typeof createActivities>;

/**
 * Retries with backoff. What no retry can fix arrives as a non-retryable failure (activities/failures.ts maps
 * every PermanentError and non-retryable LLM error), so no list of error names is kept here to drift.
 */
function retryOf(config: Config): ActivityOptions['retry'] {
  return {
    initialInterval: config.retry.initialIntervalMs,
    maximumInterval: config.retry.maximumIntervalMs,
    backoffCoefficient: config.retry.backoffCoefficient,
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
 * An item whose LLM calls run in turn inside one activity (a dialogue, a translated item), on the LLM task queue.
 * Liveness comes from the heartbeats sent during each call (a dead worker is noticed within the heartbeat
 * timeout) and from each call's HTTP timeout, not from start-to-close: the number of calls is not known here,
 * so one attempt may use the whole schedule-to-close. A cancelled item finishes and stores the call in flight
 * before it stops, and the workflow waits for that (the default WAIT_CANCELLATION_COMPLETED), so a restarted
 * attempt never runs the same call beside it.
 */
export function llmItemActivities(config: Config) {
  return proxyActivities<Activities>({
    taskQueue: config.temporal.llmTaskQueue,
    startToCloseTimeout: config.retry.llmScheduleToCloseMs,
    scheduleToCloseTimeout: config.retry.llmScheduleToCloseMs,
    heartbeatTimeout: config.retry.heartbeatTimeoutMs,
    retry: retryOf(config),
  });
}

/** CPU and storage work: long start-to-close for big shards, heartbeats for progress and resume, retries bounded in time. */
export function workActivities(config: Config) {
  return proxyActivities<Activities>({
    taskQueue: config.temporal.workTaskQueue,
    startToCloseTimeout: '2 hours',
    scheduleToCloseTimeout: config.retry.workScheduleToCloseMs,
    heartbeatTimeout: config.retry.heartbeatTimeoutMs,
    retry: retryOf(config),
  });
}
