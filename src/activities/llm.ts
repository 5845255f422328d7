/** The LLM gateway inside an activity: heartbeats while a call is in flight, and failures mapped to Temporal's retry rules. */
import { CancelledFailure, Context } from '@temporalio/activity';
import type { Gateway } from '../llm/gateway';
import { LlmRateLimitError } from '../llm/errors';
import type { ChatRequest, ChatResult } from '../llm/types';

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
 * between them (failures.ts maps what it throws). A call already in flight is not aborted: it is paid for, so it finishes and its caller stores
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
    throw err;
  } finally {
    clearInterval(timer);
  }
}
