/**
 * Seeded randomness that runs the same in workflows (no Node built-ins) and activities.
 * Every random choice derives from the run seed plus stable keys, never from Math.random.
 */

/** 128-bit string hash (cyrb128) used to seed streams from (seed, keys...). */
function cyrb128(input: string): [number, number, number, number] {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < input.length; i++) {
    const k = input.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** A deterministic uniform [0, 1) generator (sfc32). */
export type Rng = () => number;

/** A stream seeded by the run seed and any stable keys (e.g. language, segment id). */
export function rngFor(seed: number | string, ...keys: Array<string | number>): Rng {
  let [a, b, c, d] = cyrb128([String(seed), ...keys.map(String)].join('\u0000'));
  const next: Rng = () => {
    a |= 0; b |= 0; c |= 0; d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next(); // warm up: early outputs of sfc32 correlate with the seed
  return next;
}

/** Integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** Stable 32-bit hex digest of a string, for ids that must not need node:crypto (workflow-safe). */
export function stableHash(input: string): string {
  return cyrb128(input).map((h) => h.toString(16).padStart(8, '0')).join('');
}

/**
 * Seed of a retry: attempt 0 uses the run's seed (cache shared with reruns); a retry gets a seed derived from
 * (seed, kind, attempt), so it never replays the cached failed answer nor collides with another run's seed.
 */
export function retrySeed(seed: number, kind: string, attempt: number): number {
  return attempt === 0 ? seed : Math.floor(rngFor(seed, 'retry', kind, attempt)() * 2 ** 31);
}
