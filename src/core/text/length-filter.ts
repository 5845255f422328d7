/** Document length filter (paper §2.1.1: keep documents of 1K–10K cl100k_base tokens). */
import type { Doc } from '../records';
import { drop, KEEP, type Verdict } from '../stats';
import { countTokens } from './tokens';

/** Options of {@link filterByLength}; bounds are inclusive. */
export interface LengthFilterOptions {
  minTokens?: number;
  maxTokens?: number;
  /** Token counter; defaults to cl100k_base. */
  countTokens?: (text: string) => number;
}

/** Keeps a document whose token count (doc.tokens, else counted) lies within [minTokens, maxTokens]. */
export function filterByLength(doc: Doc, opts: LengthFilterOptions = {}): Verdict {
  const tokens = doc.tokens ?? (opts.countTokens ?? countTokens)(doc.text);
  if (tokens < (opts.minTokens ?? 1000)) return drop('text_too_short');
  if (tokens > (opts.maxTokens ?? 10_000)) return drop('text_too_long');
  return KEEP;
}
