/**
 * Exact-quota seeded sampling for data pruning and overlap (paper §2.3–2.4, Table 2). Workflow-safe:
 * no Node built-ins, no memory per source item (a keyed Feistel permutation, evaluated per draw).
 */
import { z } from 'zod';
import { rngFor } from '../random';
import type { AgnosticSubset } from './readers';

/** Defaults from Table 2; English keeps its full sets (395K math, 186K code, its whole filtered chat set, 67K). */
export const agnosticOptionsSchema = z.object({
  /** Items per non-English language; chat is one shared filtered set translated into every language (§2.4). */
  quotas: z
    .object({
      chat: z.number().int().nonnegative().default(11_000),
      math: z.number().int().nonnegative().default(32_000),
      code: z.number().int().nonnegative().default(16_000),
    })
    .prefault({}),
  /** English passes math and code through whole and keeps every chat conversation that survives the filter (no translation). */
  englishFullSets: z.boolean().default(true),
  /** Language code of the source sets. */
  sourceLang: z.string().default('en'),
  /** Extra attempts for an unparsable judge verdict and for a failed translation check (issue 4: retried once, then dropped). */
  judgeRetries: z.number().int().nonnegative().default(1),
  translateRetries: z.number().int().nonnegative().default(1),
});

/** Resolved options of the language-agnostic stage. */
export type AgnosticOptions = z.infer<typeof agnosticOptionsSchema>;

/** The key of a draw stream: chat shares one stream across languages ('chat', §2.4); math and code are per language. */
export function streamKey(lang: string, subset: AgnosticSubset): string {
  return subset === 'chat' ? 'chat' : `${lang}/${subset}`;
}

const ROUNDS = 6;

function mix(x: number, k: number): number {
  let h = Math.imul(x ^ k, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae3d);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A keyed bijection on [0, n): position i of a seeded draw order is source item `permutation(…)(i)`.
 * A balanced Feistel network over the smallest even-bit domain ≥ n, with cycle-walking back into range,
 * so any prefix of draws is a uniform sample without replacement and nothing is stored.
 */
export function permutation(n: number, seed: number | string, ...keys: string[]): (i: number) => number {
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 30) throw new RangeError(`permutation size out of range: ${n}`);
  let bits = 2;
  while (2 ** bits < n) bits += 2;
  const half = bits / 2;
  const mask = 2 ** half - 1;
  const rng = rngFor(seed, ...keys);
  const roundKeys = Array.from({ length: ROUNDS }, () => Math.floor(rng() * 4294967296) >>> 0);
  const encrypt = (x: number): number => {
    let left = x >>> half;
    let right = x & mask;
    for (const k of roundKeys) {
      const next = left ^ (mix(right, k) & mask);
      left = right;
      right = next;
    }
    return (left << half) | right;
  };
  return (i: number): number => {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`draw ${i} outside [0, ${n})`);
    // Cycle-walking: the domain is < 4n, so a few steps on average; the walk ends because encrypt is a bijection.
    let x = encrypt(i);
    while (x >= n) x = encrypt(x);
    return x;
  };
}

/** Quota of a (language, subset) stream: English keeps everything when `englishFullSets`, others get Table 2's quotas. */
export function quotaFor(options: AgnosticOptions, lang: string, subset: AgnosticSubset, sourceCount: number): number {
  if (lang === options.sourceLang && options.englishFullSets) return sourceCount;
  return Math.min(options.quotas[subset], sourceCount);
}
