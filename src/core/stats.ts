/** Per-step counters shared by every stage (datatrove-style funnel). */

/** Outcome of one step for one record: keep it, or drop it with a snake_case, stage-prefixed reason. */
export type Verdict = { keep: true } | { keep: false; reason: string };

/** Counters of one pipeline step; invariant: total = kept + dropped. */
export interface StepStats {
  total: number;
  kept: number;
  dropped: number;
  byReason: Record<string, number>;
  ms: number;
  tokens: number;
}

/** A stage's funnel: step name -> its counters, in pipeline order. */
export type Funnel = Record<string, StepStats>;

/** Zeroed counters. */
export function emptyStats(): StepStats {
  return { total: 0, kept: 0, dropped: 0, byReason: {}, ms: 0, tokens: 0 };
}

/** Pure addition of two counters. */
export function mergeStats(a: StepStats, b: StepStats): StepStats {
  const byReason: Record<string, number> = { ...a.byReason };
  for (const [reason, n] of Object.entries(b.byReason)) byReason[reason] = (byReason[reason] ?? 0) + n;
  return {
    total: a.total + b.total,
    kept: a.kept + b.kept,
    dropped: a.dropped + b.dropped,
    byReason,
    ms: a.ms + b.ms,
    tokens: a.tokens + b.tokens,
  };
}

/** Pure addition of two funnels, step by step; step order follows first appearance. */
export function mergeFunnels(a: Funnel, b: Funnel): Funnel {
  const out: Funnel = {};
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    out[name] = mergeStats(a[name] ?? emptyStats(), b[name] ?? emptyStats());
  }
  return out;
}

/** Records one verdict into `stats` (mutates) and returns whether the record goes on. */
export function countVerdict(stats: StepStats, verdict: Verdict): boolean {
  stats.total += 1;
  if (verdict.keep) {
    stats.kept += 1;
    return true;
  }
  stats.dropped += 1;
  stats.byReason[verdict.reason] = (stats.byReason[verdict.reason] ?? 0) + 1;
  return false;
}

/** Runs a step over one record, counting its verdict and time; returns whether the record goes on. */
export function applyStep<T>(stats: StepStats, record: T, step: (record: T) => Verdict): boolean {
  const started = performance.now();
  const verdict = step(record);
  stats.ms += performance.now() - started;
  return countVerdict(stats, verdict);
}

/** Drop helper so steps read `return drop('wiki_redirect')`. */
export function drop(reason: string): Verdict {
  return { keep: false, reason };
}

/** Keep helper. */
export const KEEP: Verdict = Object.freeze({ keep: true }) as Verdict;
