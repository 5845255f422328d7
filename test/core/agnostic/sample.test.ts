import { describe, expect, it } from 'vitest';
import { agnosticOptionsSchema, permutation, quotaFor, streamKey } from '../../../src/core/agnostic/sample';
import { randomInt, rngFor } from '../../../src/core/random';
import type { BatchResult } from '../../../src/workflows/item-batch';
import { absorbBatch, candidatesWanted, nextBatchSize, quotaStep, reviewCap, type QuotaStageState } from '../../../src/workflows/quota-stage';

const LANGS = ['zh', 'ru', 'fr', 'es'];

describe('permutation', () => {
  it.each([1, 2, 3, 4, 5, 17, 1000, 4097])('is a bijection on [0, %i)', (n) => {
    const f = permutation(n, 42, 'k');
    const seen = new Set(Array.from({ length: n }, (_, i) => f(i)));
    expect(seen.size).toBe(n);
    expect(Math.min(...seen)).toBe(0);
    expect(Math.max(...seen)).toBe(n - 1);
  });

  it('rejects draws out of range', () => {
    expect(() => permutation(10, 1)(10)).toThrow(RangeError);
  });

  it('a 32K prefix of 395K is spread over the whole source (not clustered)', () => {
    const f = drawOrderOf(7, 'zh', 'math', 395_000);
    const deciles = new Array(10).fill(0);
    for (let i = 0; i < 32_000; i++) deciles[Math.floor(f(i) / 39_500)]++;
    for (const d of deciles) expect(d).toBeGreaterThan(2_800);
    for (const d of deciles) expect(d).toBeLessThan(3_600);
  });
});

/** The draw order a batch of an agnostic stage walks (item-batch.ts: `permutation(count, seed, 'draw', orderKey)`). */
function drawOrderOf(seed: number, lang: string, subset: 'chat' | 'math' | 'code', n: number): (i: number) => number {
  return permutation(n, seed, 'draw', streamKey(lang, subset));
}

describe('agnostic draw streams', () => {
  const prefix = (seed: number, lang: string, subset: 'chat' | 'math' | 'code', n = 395_000, k = 1000) => {
    const f = drawOrderOf(seed, lang, subset, n);
    return Array.from({ length: k }, (_, i) => f(i));
  };

  it('is reproducible per seed', () => {
    expect(prefix(1, 'zh', 'math')).toEqual(prefix(1, 'zh', 'math'));
    expect(prefix(1, 'zh', 'math')).not.toEqual(prefix(2, 'zh', 'math'));
  });

  it('math and code are independent per language', () => {
    for (const subset of ['math', 'code'] as const) {
      const sets = LANGS.map((l) => new Set(prefix(3, l, subset)));
      for (let a = 0; a < sets.length; a++) {
        for (let b = a + 1; b < sets.length; b++) {
          const overlap = [...sets[a]].filter((x) => sets[b].has(x)).length;
          // Independent 1000-of-395K samples overlap by ~2.5 items on average.
          expect(overlap).toBeLessThan(20);
        }
      }
    }
    expect(prefix(3, 'zh', 'math')).not.toEqual(prefix(3, 'zh', 'code'));
  });

  it('agnostic chat is one shared stream: identical for every language', () => {
    const zh = prefix(3, 'zh', 'chat', 90_000);
    for (const l of LANGS) expect(prefix(3, l, 'chat', 90_000)).toEqual(zh);
  });
});

/** Which source items the gates keep: each dropped with probability `dropRate`, seeded. */
function keepsAtRate(seed: number, dropRate: number, sourceCount: number): (source: number) => boolean {
  const dropped = new Set(Array.from({ length: sourceCount }, (_, i) => i).filter((i) => rngFor(seed, 'drop', i)() < dropRate));
  return (s) => !dropped.has(s);
}

/**
 * Runs the quota stage's admission arithmetic to the end, batches finishing in a random order: admit while
 * `nextBatchSize` allows (at most `window` batches in flight), absorb each finished batch as the stage does.
 */
function simulate(seed: number, quota: number, sourceCount: number, batchSize: number, window: number, keeps: (source: number) => boolean, speculation = 1) {
  const order = permutation(sourceCount, seed, 'draw', 'fr/math');
  const rng = rngFor(seed, 'completion');
  const state: QuotaStageState = { nextDraw: 0, kept: 0, dropped: 0, batches: 0, funnel: {}, calls: 0, promptTokens: 0, completionTokens: 0 };
  const inFlight: Array<{ from: number; size: number }> = [];
  const kept: number[] = [];
  for (;;) {
    const positions = () => inFlight.reduce((n, b) => n + b.size, 0);
    const size = () => nextBatchSize(batchSize, candidatesWanted(quota, state.kept, state.dropped, speculation), positions(), sourceCount, state.nextDraw);
    for (let n = size(); n > 0 && inFlight.length < window; n = size()) {
      inFlight.push({ from: state.nextDraw, size: n });
      state.nextDraw += n;
      state.batches += 1;
    }
    if (inFlight.length === 0) break;
    const [batch] = inFlight.splice(randomInt(rng, inFlight.length), 1);
    const draws = Array.from({ length: batch!.size }, (_, k) => batch!.from + k);
    const keptDraws = draws.filter((d) => keeps(order(d)));
    kept.push(...keptDraws);
    const result: BatchResult = { stage: 'math', from: batch!.from, kept: keptDraws.length, dropped: draws.length - keptDraws.length, byReason: draws.length > keptDraws.length ? { translate_failed: draws.length - keptDraws.length } : {}, endedEarly: {}, calls: draws.length, promptTokens: 10 * draws.length, completionTokens: 5 * draws.length };
    absorbBatch(state, result);
  }
  return { state, kept: kept.sort((a, b) => a - b), order };
}

describe('exact quotas: the stage admits no draw that could exceed the quota', () => {
  it.each([
    [1, 0.0, 1],
    [2, 0.3, 7],
    [3, 0.8, 50],
  ])('seed %i, drop rate %f, batches of %i: exactly the quota, the shortest prefix of kept draws, no extra calls', (seed, dropRate, batchSize) => {
    const sourceCount = 5_000;
    const quota = 320;
    const keeps = keepsAtRate(seed, dropRate, sourceCount);
    const run = simulate(seed, quota, sourceCount, batchSize, 4, keeps);
    expect(run.state.kept).toBe(quota);
    expect(run.kept).toHaveLength(quota);
    // The kept draws are exactly the first `quota` kept draws of the stream, whatever the completion order.
    const expected: number[] = [];
    for (let d = 0; expected.length < quota; d++) if (keeps(run.order(d))) expected.push(d);
    expect(run.kept).toEqual(expected);
    expect(run.state.nextDraw).toBe(expected[quota - 1]! + 1);
    expect(run.state.kept + run.state.dropped).toBe(run.state.nextDraw);
    expect(run.state.calls).toBe(run.state.nextDraw);
    expect(run.state.funnel.math).toMatchObject({ total: run.state.nextDraw, kept: quota, dropped: run.state.dropped });
  });

  it('stops at the end of the source when it runs out first', () => {
    const run = simulate(4, 100, 150, 8, 3, (s) => s % 2 === 0);
    expect(run.state.kept).toBe(75);
    expect(run.state.nextDraw).toBe(150);
  });

  it('a zero quota admits nothing; a batch never exceeds its size, the room left or the source', () => {
    expect(nextBatchSize(50, candidatesWanted(0, 0, 0, 1), 0, 100, 0)).toBe(0);
    expect(nextBatchSize(50, candidatesWanted(10, 3, 0, 1), 4, 100, 7)).toBe(3);
    expect(nextBatchSize(50, candidatesWanted(500, 0, 0, 1), 0, 100, 90)).toBe(10);
    expect(nextBatchSize(5, candidatesWanted(500, 0, 0, 1), 0, 100, 0)).toBe(5);
    expect(nextBatchSize(5, candidatesWanted(10, 12, 0, 1), 0, 100, 20)).toBe(0);
  });
});

describe('speculative draws (control.speculation)', () => {
  it.each([
    // quota, kept, dropped, speculation → wanted in flight
    [1, 0, 0, 4, 1], // nothing seen yet: only what is needed
    [1, 0, 1, 4, 2], // one drop: keep rate 1/2, two candidates side by side
    [1, 0, 5, 4, 4], // keep rate 1/6, capped at 4× the need
    [2, 1, 1, 4, 2], // one needed at keep rate 2/3
    [4, 0, 3, 1, 4], // speculation 1: exactly the need, whatever the drops
    [3, 3, 9, 4, 0], // quota met
    [3, 5, 0, 4, 0], // met and more
  ])('quota %i, kept %i, dropped %i, speculation %f: %i candidates wanted', (quota, kept, dropped, speculation, wanted) => {
    expect(candidatesWanted(quota, kept, dropped, speculation)).toBe(wanted);
  });

  it.each([
    [5, 0.7, 1],
    [6, 0.9, 3],
  ])('seed %i, drop rate %f, batches of %i: more draws side by side, and the first `quota` keepers are the same as without', (seed, dropRate, batchSize) => {
    const sourceCount = 2_000;
    const quota = 12;
    const keeps = keepsAtRate(seed, dropRate, sourceCount);
    const exact = simulate(seed, quota, sourceCount, batchSize, 64, keeps);
    const speculative = simulate(seed, quota, sourceCount, batchSize, 64, keeps, 4);
    expect(speculative.kept.slice(0, quota)).toEqual(exact.kept);
    expect(speculative.state.kept).toBeGreaterThanOrEqual(quota);
    expect(speculative.state.nextDraw).toBeGreaterThanOrEqual(exact.state.nextDraw);
    expect(speculative.state.kept + speculative.state.dropped).toBe(speculative.state.nextDraw);
  });

  it('the quota step counts keepers past the quota as over_quota and a shortfall as the source running out', () => {
    expect(quotaStep('math', 2, 5)).toMatchObject({ total: 5, kept: 2, dropped: 3, byReason: { math_over_quota: 3 } });
    expect(quotaStep('math', 4, 1)).toMatchObject({ total: 4, kept: 1, dropped: 3, byReason: { math_source_exhausted: 3 } });
    expect(quotaStep('math', 3, 3)).toMatchObject({ total: 3, kept: 3, dropped: 0, byReason: {} });
  });
});

describe('the review gate', () => {
  it('admits up to reviewAfter keepers, then nothing until passed', () => {
    expect(reviewCap(undefined, false, 0, 0)).toBe(Number.POSITIVE_INFINITY);
    expect(reviewCap(10, false, 0, 0)).toBe(10);
    expect(reviewCap(10, false, 4, 3)).toBe(3);
    expect(reviewCap(10, false, 10, 0)).toBe(0);
    expect(reviewCap(10, false, 8, 5)).toBe(0);
    expect(reviewCap(10, true, 10, 0)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('absorbBatch', () => {
  it('adds counts and funnels; a dialogue batch also counts the dialogues that ran their planned course', () => {
    const state: QuotaStageState = { nextDraw: 4, kept: 0, dropped: 0, batches: 1, funnel: {}, calls: 0, promptTokens: 0, completionTokens: 0 };
    absorbBatch(state, { stage: 'chat_specific', from: 0, kept: 3, dropped: 1, byReason: { question_copied: 1 }, endedEarly: { answer_repeats_question: 1 }, calls: 9, promptTokens: 900, completionTokens: 300, rateLimited: 2 });
    expect(state).toMatchObject({ kept: 3, dropped: 1, calls: 9, promptTokens: 900, completionTokens: 300, rateLimited: 2 });
    expect(state.funnel.chat_specific).toMatchObject({ total: 4, kept: 3, dropped: 1, byReason: { question_copied: 1 }, tokens: 1200 });
    expect(state.funnel.full_length).toMatchObject({ total: 3, kept: 2, dropped: 1, byReason: { answer_repeats_question: 1 } });
  });
});

describe('agnosticOptionsSchema and quotaFor', () => {
  it('defaults to Table 2', () => {
    const options = agnosticOptionsSchema.parse({});
    expect(options.quotas).toEqual({ chat: 11_000, math: 32_000, code: 16_000 });
    expect(quotaFor(options, 'zh', 'math', 395_000)).toBe(32_000);
    expect(quotaFor(options, 'ru', 'code', 186_000)).toBe(16_000);
    expect(quotaFor(options, 'fr', 'chat', 67_000)).toBe(11_000);
    expect(quotaFor(options, 'en', 'math', 395_000)).toBe(395_000);
    expect(quotaFor(options, 'en', 'chat', 90_000)).toBe(90_000);
    expect(quotaFor(options, 'es', 'math', 100)).toBe(100);
  });

  it('overrides one quota without losing the others', () => {
    const options = agnosticOptionsSchema.parse({ quotas: { math: 2_000 }, englishFullSets: false });
    expect(options.quotas).toEqual({ chat: 11_000, math: 2_000, code: 16_000 });
    expect(quotaFor(options, 'en', 'math', 395_000)).toBe(2_000);
  });
});
