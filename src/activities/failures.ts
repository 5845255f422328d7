/**
 * The one place an error becomes a Temporal failure. A PermanentError (core/errors.ts) and a non-retryable LLM
 * error become non-retryable ApplicationFailures of their type, so the workflow fails at once with the cause;
 * an LLM error that a retry can fix carries the server's Retry-After; anything else is left to the retry policy
 * (a storage outage heals, and work activities are bounded by their schedule-to-close).
 */
import { ApplicationFailure } from '@temporalio/activity';
import { PermanentError } from '../core/errors';
import { LlmError, toApplicationFailureOptions } from '../llm/errors';

/** Maps an error thrown inside an activity to what Temporal should do with it. */
export function toFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof PermanentError) return ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: true });
  if (err instanceof LlmError) {
    const o = toApplicationFailureOptions(err);
    return ApplicationFailure.create({ message: o.message, type: o.type, nonRetryable: o.nonRetryable, nextRetryDelay: o.nextRetryDelayMs });
  }
  return err;
}

/** The same activities, each rethrowing its errors through `toFailure` (the worker registers these). */
export function withFailureMapping<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    out[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw toFailure(err);
      }
    };
  }
  return out as T;
}
