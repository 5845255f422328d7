import { describe, expect, it } from 'vitest';
import { dialogueOptionsSchema } from '../../../src/core/dialogue/options';
import {
  endProbabilityAfter,
  expectedTurnDistribution,
  planFollowUps,
  planNextTurn,
  type TurnPlanOptions,
} from '../../../src/core/dialogue/plan';

const DEFAULTS: TurnPlanOptions = dialogueOptionsSchema.parse({});

/** Turn-count histogram (index = turns - 1) and follow-up kind counts of `n` simulated dialogues. */
function simulate(seed: number, n: number, options: TurnPlanOptions) {
  const histogram = new Array<number>(options.maxTurns).fill(0);
  const kinds = { in_depth: 0, expansive: 0 };
  for (let i = 0; i < n; i++) {
    const followUps = planFollowUps(seed, `segment-${i}`, options);
    histogram[followUps.length] += 1;
    for (const kind of followUps) kinds[kind] += 1;
  }
  return { histogram, kinds };
}

/** Pearson chi-square over buckets with a non-zero expectation. */
function chiSquare(observed: number[], probabilities: number[], n: number): { statistic: number; df: number } {
  let statistic = 0;
  let buckets = 0;
  probabilities.forEach((p, i) => {
    if (p === 0) return;
    const expected = p * n;
    statistic += (observed[i] - expected) ** 2 / expected;
    buckets += 1;
  });
  return { statistic, df: buckets - 1 };
}

// Upper 0.1% points of chi-square: the seeded run is deterministic, so this bounds the design, not luck.
const CHI2_999: Record<number, number> = { 2: 13.816, 3: 16.266, 4: 18.467, 5: 20.515 };

describe('dialogue options', () => {
  it('defaults to the paper: end p 0.1, 50/50 branching, Table 2 volumes, document in the first turn', () => {
    expect(DEFAULTS).toMatchObject({ endProbability: 0.1, inDepthShare: 0.5, includeDocumentInFirstTurn: true });
    expect(dialogueOptionsSchema.parse({}).dialoguesPerLanguage).toEqual({ en: 10_000, zh: 36_000, ru: 37_000, fr: 30_000, es: 34_000 });
  });

  it.each([
    ['endProbability above 1', { endProbability: 1.5 }],
    ['negative inDepthShare', { inDepthShare: -0.1 }],
    ['zero maxTurns', { maxTurns: 0 }],
    ['fractional minAnswerTokens', { minAnswerTokens: 2.5 }],
  ])('rejects %s', (_name, input) => {
    expect(dialogueOptionsSchema.safeParse(input).success).toBe(false);
  });
});

describe('planNextTurn', () => {
  it('doubles the end probability every turn, capped at 1 and forced at maxTurns', () => {
    expect([1, 2, 3, 4, 5, 6].map((k) => endProbabilityAfter(k, DEFAULTS))).toEqual([0.1, 0.2, 0.4, 0.8, 1, 1]);
    expect(endProbabilityAfter(3, { ...DEFAULTS, endProbability: 0, maxTurns: 3 })).toBe(1);
  });

  it('is reproducible for a seed and changes with the seed', () => {
    const plans = (seed: number) => Array.from({ length: 200 }, (_, i) => planFollowUps(seed, `s${i}`, DEFAULTS));
    expect(plans(7)).toEqual(plans(7));
    expect(plans(7)).not.toEqual(plans(8));
    const call = { seed: 7, segmentId: 's3', completedTurns: 2, options: DEFAULTS };
    expect(planNextTurn(call)).toBe(planNextTurn({ ...call }));
  });

  it('branches both ways, and each way alone at the extremes of inDepthShare', () => {
    const { kinds } = simulate(1, 500, DEFAULTS);
    expect(kinds.in_depth).toBeGreaterThan(0);
    expect(kinds.expansive).toBeGreaterThan(0);
    expect(simulate(1, 200, { ...DEFAULTS, inDepthShare: 1 }).kinds.expansive).toBe(0);
    expect(simulate(1, 200, { ...DEFAULTS, inDepthShare: 0 }).kinds.in_depth).toBe(0);
  });

  it('ends after the first turn when p = 1 and exactly at maxTurns when p = 0', () => {
    expect(planNextTurn({ seed: 1, segmentId: 'x', completedTurns: 1, options: { ...DEFAULTS, endProbability: 1 } })).toBe('end');
    const never = { ...DEFAULTS, endProbability: 0, maxTurns: 4 };
    for (let i = 0; i < 50; i++) expect(planFollowUps(3, `s${i}`, never)).toHaveLength(3);
  });

  it.each([0, -1, 1.5])('refuses completedTurns = %s (the first turn is always the initial one)', (completedTurns) => {
    expect(() => planNextTurn({ seed: 1, segmentId: 'x', completedTurns, options: DEFAULTS })).toThrow(RangeError);
  });
});

describe('expectedTurnDistribution', () => {
  it('is exact for the defaults: 0.1, 0.9·0.2, 0.9·0.8·0.4, 0.9·0.8·0.6·0.8, the rest at turn 5', () => {
    const expected = [0.1, 0.18, 0.288, 0.3456, 0.0864, 0];
    expectedTurnDistribution(DEFAULTS).forEach((p, i) => expect(p).toBeCloseTo(expected[i], 12));
  });

  it.each([
    { endProbability: 0.1, maxTurns: 3, inDepthShare: 0.5 },
    { endProbability: 0.03, maxTurns: 10, inDepthShare: 0.5 },
    { endProbability: 0, maxTurns: 2, inDepthShare: 0.5 },
  ])('sums to 1 for %o', (options) => {
    const distribution = expectedTurnDistribution(options);
    expect(distribution).toHaveLength(options.maxTurns);
    expect(distribution.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
});

describe('seeded statistical test: 20,000 simulated dialogues follow the end-probability rule', () => {
  const N = 20_000;
  it.each([
    ['defaults', DEFAULTS],
    ['p 0.05, cap 4, 30% in-depth', { endProbability: 0.05, maxTurns: 4, inDepthShare: 0.3 }],
    ['p 0.2, cap 8, 70% in-depth', { endProbability: 0.2, maxTurns: 8, inDepthShare: 0.7 }],
  ] as Array<[string, TurnPlanOptions]>)('%s', (_name, options) => {
    const { histogram, kinds } = simulate(20240101, N, options);
    const probabilities = expectedTurnDistribution(options);
    probabilities.forEach((p, i) => {
      if (p === 0) expect(histogram[i]).toBe(0);
      expect(Math.abs(histogram[i] / N - p)).toBeLessThan(0.01);
    });
    const { statistic, df } = chiSquare(histogram, probabilities, N);
    expect(statistic).toBeLessThan(CHI2_999[df]);
    const followUps = kinds.in_depth + kinds.expansive;
    expect(Math.abs(kinds.in_depth / followUps - options.inDepthShare)).toBeLessThan(0.015);
  });
});
