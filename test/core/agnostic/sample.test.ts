import { describe, expect, it } from 'vitest';
import {
  agnosticOptionsSchema,
  drawOrder,
  drawsToStart,
  markFinished,
  markStarted,
  permutation,
  quotaFor,
  quotaStatus,
  startQuota,
  type QuotaState,
} from '../../../src/core/agnostic/sample';
import { randomInt, rngFor } from '../../../src/core/random';

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
    const f = drawOrder(7, 'zh', 'math', 395_000);
    const deciles = new Array(10).fill(0);
    for (let i = 0; i < 32_000; i++) deciles[Math.floor(f(i) / 39_500)]++;
    for (const d of deciles) expect(d).toBeGreaterThan(2_800);
    for (const d of deciles) expect(d).toBeLessThan(3_600);
  });
});

describe('drawOrder streams', () => {
  const prefix = (seed: number, lang: string, subset: 'chat' | 'math' | 'code', n = 395_000, k = 1000) => {
    const f = drawOrder(seed, lang, subset, n);
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

/** Runs a quota stream to the end with random completion order; `keeps(source)` is the item's fixed verdict. */
function simulate(seed: number, quota: number, sourceCount: number, maxInFlight: number, keeps: (source: number) => boolean) {
  const order = drawOrder(seed, 'fr', 'math', sourceCount);
  const rng = rngFor(seed, 'completion');
  let state: QuotaState = startQuota();
  const inFlight: number[] = [];
  const kept: number[] = [];
  let started = 0;
  while (quotaStatus(state, quota, sourceCount) === 'running') {
    const draws = drawsToStart(state, quota, sourceCount, maxInFlight);
    state = markStarted(state, draws.length);
    started += draws.length;
    inFlight.push(...draws);
    expect(state.inFlight).toBeLessThanOrEqual(maxInFlight);
    // Any in-flight draw may finish next.
    const [draw] = inFlight.splice(randomInt(rng, inFlight.length), 1);
    const ok = keeps(order(draw));
    if (ok) kept.push(draw);
    state = markFinished(state, ok);
  }
  return { state, kept: kept.sort((a, b) => a - b), started, status: quotaStatus(state, quota, sourceCount), order };
}

describe('exact quotas with replacement draws', () => {
  it.each([
    [1, 0.0],
    [2, 0.3],
    [3, 0.8],
  ])('seed %i, drop rate %f: exactly the quota, the shortest prefix of kept draws, no extra calls', (seed, dropRate) => {
    const sourceCount = 5_000;
    const quota = 320;
    const dropped = new Set(Array.from({ length: sourceCount }, (_, i) => i).filter((i) => rngFor(seed, 'drop', i)() < dropRate));
    const keeps = (s: number) => !dropped.has(s);
    const run = simulate(seed, quota, sourceCount, 16, keeps);
    expect(run.status).toBe('met');
    expect(run.kept).toHaveLength(quota);
    // The kept draws are exactly the first `quota` kept draws of the stream, whatever the completion order.
    const expected: number[] = [];
    for (let d = 0; expected.length < quota; d++) if (keeps(run.order(d))) expected.push(d);
    expect(run.kept).toEqual(expected);
    expect(run.started).toBe(expected[quota - 1] + 1);
  });

  it('reports exhaustion when the source runs out first', () => {
    const run = simulate(4, 100, 150, 8, (s) => s % 2 === 0);
    expect(run.status).toBe('exhausted');
    expect(run.kept).toHaveLength(75);
    expect(run.started).toBe(150);
  });

  it('a zero quota starts nothing', () => {
    expect(drawsToStart(startQuota(), 0, 100, 8)).toEqual([]);
    expect(quotaStatus(startQuota(), 0, 100)).toBe('met');
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
