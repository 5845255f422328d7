import { describe, expect, it } from 'vitest';
import { retrySeed } from '../../src/core/random';

describe('retrySeed', () => {
  it("a first attempt uses the run's seed, so reruns share its cached answers", () => {
    expect(retrySeed(42, 'translate', 0)).toBe(42);
  });

  it('a retry gets a seed of its own per kind and attempt, the same on every run', () => {
    const seeds = [retrySeed(42, 'translate', 1), retrySeed(42, 'translate', 2), retrySeed(42, 'judge', 1), retrySeed(43, 'translate', 1)];
    expect(new Set([42, ...seeds]).size).toBe(5);
    expect(retrySeed(42, 'translate', 1)).toBe(retrySeed(42, 'translate', 1));
    for (const s of seeds) expect(Number.isInteger(s) && s >= 0 && s < 2 ** 31).toBe(true);
  });
});
