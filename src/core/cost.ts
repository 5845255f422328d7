/**
 * LLM spend as activities report it, workflows add it up and every report prices it. Pure and free of Temporal
 * and Node built-ins, so activities, workflow code and the CLI share the one accounting rule and the one price formula.
 */

/** USD per million tokens (config.llm.pricing). */
export interface Pricing {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** Estimated USD of a token count at the configured prices. */
export function costUsd(promptTokens: number, completionTokens: number, pricing: Pricing): number {
  return (promptTokens * pricing.inputPerMTok + completionTokens * pricing.outputPerMTok) / 1_000_000;
}

/** LLM spend of one activity execution (calls actually sent; a cache hit or stored outcome is 0 calls). */
export interface CallOutcome {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** 429s the call met before it succeeded (drives adaptive concurrency; not stored). */
  rateLimited?: number;
}

/**
 * Adds one call's spend to a total. Every call of an activity attempt reports the 429s of the attempts before
 * it, so the total keeps the largest count rather than a sum.
 */
export function addCallCost(total: CallOutcome, call: CallOutcome): void {
  total.calls += call.calls;
  total.promptTokens += call.promptTokens;
  total.completionTokens += call.completionTokens;
  if (call.rateLimited) total.rateLimited = Math.max(total.rateLimited ?? 0, call.rateLimited);
}
