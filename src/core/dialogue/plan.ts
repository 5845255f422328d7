/**
 * Turn planning for one dialogue (paper §2.1.2): after each completed turn, end or pick the next question kind.
 * Workflow-safe: imports only the seeded random module, no Node built-ins, no zod.
 */
import { rngFor } from '../random';

/** Kind of a question generation call. */
export type QuestionKind = 'initial' | 'in_depth' | 'expansive';

/** Kind of an answer generation call. */
export type AnswerKind = 'initial' | 'followup';

/** What comes after a completed turn. */
export type NextTurn = 'in_depth' | 'expansive' | 'end';

/** The planning options (a subset of the dialogue options; see options.ts for defaults). */
export interface TurnPlanOptions {
  /** End probability after the first turn; it doubles after every further turn, capped at 1. */
  endProbability: number;
  /** Hard cap on turns (question + answer pairs) per dialogue. */
  maxTurns: number;
  /** Probability that a follow-up is in-depth rather than expansive. */
  inDepthShare: number;
}

/** Probability of ending right after `completedTurns` turns (1-based): p·2^(k-1), capped at 1; 1 at maxTurns. */
export function endProbabilityAfter(completedTurns: number, options: TurnPlanOptions): number {
  if (completedTurns >= options.maxTurns) return 1;
  return Math.min(1, options.endProbability * 2 ** (completedTurns - 1));
}

/** Decides what follows `completedTurns` (≥ 1) finished turns; same seed + segment gives the same answer. */
export function planNextTurn(input: {
  seed: number | string;
  segmentId: string;
  completedTurns: number;
  options: TurnPlanOptions;
}): NextTurn {
  const { seed, segmentId, completedTurns, options } = input;
  if (!Number.isInteger(completedTurns) || completedTurns < 1) {
    throw new RangeError(`planNextTurn: completedTurns must be an integer >= 1, got ${completedTurns}`);
  }
  if (completedTurns >= options.maxTurns) return 'end';
  // Determinism: one stream per (seed, segment, turn), so replays and resumed runs draw the same numbers.
  const rng = rngFor(seed, segmentId, 'turn', completedTurns);
  if (rng() < endProbabilityAfter(completedTurns, options)) return 'end';
  return rng() < options.inDepthShare ? 'in_depth' : 'expansive';
}

/** The whole follow-up plan of a dialogue whose every turn passes its gates: kinds of turns 2..n. */
export function planFollowUps(seed: number | string, segmentId: string, options: TurnPlanOptions): Array<'in_depth' | 'expansive'> {
  const kinds: Array<'in_depth' | 'expansive'> = [];
  for (let completed = 1; ; completed++) {
    const next = planNextTurn({ seed, segmentId, completedTurns: completed, options });
    if (next === 'end') return kinds;
    kinds.push(next);
  }
}

/** Exact probabilities of a dialogue having 1..maxTurns turns; index i holds P(turns = i + 1). */
export function expectedTurnDistribution(options: TurnPlanOptions): number[] {
  const probabilities: number[] = [];
  let survive = 1;
  for (let turns = 1; turns <= options.maxTurns; turns++) {
    const end = endProbabilityAfter(turns, options);
    probabilities.push(survive * end);
    survive *= 1 - end;
  }
  return probabilities;
}
