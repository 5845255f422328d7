/** The LLM gateway as an activity: request and result travel as storage keys, never as payloads. */
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { Gateway } from '../llm/gateway';
import { PromptTooLongError } from '../llm/gateway';
import { LlmError, LlmRateLimitError, toApplicationFailureOptions } from '../llm/errors';
import type { ChatRequest, ChatResult } from '../llm/types';
import type { Storage } from '../storage/storage';
import { getJson, putJson } from '../storage/json';

export interface ChatCompletionInput {
  requestKey: string;
  resultKey: string;
}

/** Counts only: what the workflow needs to steer and to report. */
export interface ChatCompletionResult {
  resultKey: string;
  finishReason: ChatResult['finishReason'];
  promptTokens: number;
  completionTokens: number;
  cached: boolean;
}

export interface LlmActivityDeps {
  gateway: Gateway;
  storage: Storage;
}

/** Heartbeat details of an LLM call: 429s met by earlier attempts of this activity. */
interface CallHeartbeat {
  rateLimited: number;
}

/** 429s earlier attempts met: from their heartbeat; failing that, every earlier attempt counts (a retry is back-pressure too). */
function rateLimitedBefore(info: { attempt: number; heartbeatDetails: unknown }): number {
  const d = info.heartbeatDetails as Partial<CallHeartbeat> | undefined;
  return typeof d?.rateLimited === 'number' ? d.rateLimited : Math.max(0, info.attempt - 1);
}

/**
 * Runs one gateway call with heartbeats, mapping failures to Temporal's retry rules. Once the activity is
 * cancelled (a pause, a cancelled build, a worker shutting down) no call starts: an item of several calls stops
 * between them. A call already in flight is not aborted: it is paid for, so it finishes and its caller stores
 * it (llm.timeoutMs bounds it). `rateLimited` counts the 429s earlier attempts met (carried in heartbeat
 * details), so the workflow can adapt its concurrency.
 */
export async function callGateway(gateway: Gateway, request: ChatRequest): Promise<ChatResult & { cached: boolean; rateLimited: number }> {
  const ctx = Context.current();
  if (ctx.cancellationSignal.aborted) throw new CancelledFailure('activity cancelled before its next LLM call');
  const prior = rateLimitedBefore(ctx.info);
  // Heartbeat while the call is in flight, so a cancellation reaches the activity and a dead worker is noticed early.
  const every = Math.max(200, Math.min(5_000, (ctx.info.heartbeatTimeoutMs ?? 30_000) / 3));
  const timer = setInterval(() => ctx.heartbeat({ rateLimited: prior } satisfies CallHeartbeat), every);
  try {
    return { ...(await gateway.chat(request)), rateLimited: prior };
  } catch (err) {
    if (err instanceof LlmRateLimitError) ctx.heartbeat({ rateLimited: prior + 1 } satisfies CallHeartbeat);
    throw toFailure(err);
  } finally {
    clearInterval(timer);
  }
}

/** Maps an LLM-layer error to an ApplicationFailure carrying its retryability and Retry-After. */
export function toFailure(err: unknown): unknown {
  if (err instanceof LlmError) {
    const o = toApplicationFailureOptions(err);
    return ApplicationFailure.create({
      message: o.message,
      type: o.type,
      nonRetryable: o.nonRetryable,
      nextRetryDelay: o.nextRetryDelayMs,
    });
  }
  if (err instanceof PromptTooLongError) {
    return ApplicationFailure.create({ message: err.message, type: 'PromptTooLong', nonRetryable: true });
  }
  return err;
}

/** Activities of the LLM task queue. */
export function createLlmActivities({ gateway, storage }: LlmActivityDeps) {
  return {
    /** One chat completion; a rerun whose result is stored is a no-op. */
    async chatCompletion({ requestKey, resultKey }: ChatCompletionInput): Promise<ChatCompletionResult> {
      const done = await getJson<ChatResult & { cached: boolean }>(storage, resultKey);
      if (done) return summarise(resultKey, done, true);
      const request = await getJson<ChatRequest>(storage, requestKey);
      if (!request) throw ApplicationFailure.create({ message: `no LLM request at ${requestKey}`, type: 'MissingInput', nonRetryable: true });
      const result = await callGateway(gateway, request);
      await putJson(storage, resultKey, result);
      return summarise(resultKey, result, result.cached);
    },
  };
}

function summarise(resultKey: string, r: ChatResult, cached: boolean): ChatCompletionResult {
  return { resultKey, finishReason: r.finishReason, promptTokens: r.promptTokens, completionTokens: r.completionTokens, cached };
}
