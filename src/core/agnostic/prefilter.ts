/**
 * Cheap pre-filters run on chat conversations before the LLM judge (paper §2.2.1): each drops with its own
 * reason, so the judge only sees conversations that could be kept and translated.
 */
import { z } from 'zod';
import { drop, KEEP, type Verdict } from '../stats';
import type { LangId } from '../text/lang-id';
import type { AgnosticItem } from './readers';

/** Thresholds of the pre-filters, defaulted for a 4K-token context model such as GPT-3.5 (§2.5). */
export const prefilterOptionsSchema = z.object({
  /** The whole conversation must fit in the judge prompt beside the filter pack. */
  maxConversationTokens: z.number().int().positive().default(3_000),
  /** One turn is translated in one call: its prompt plus an equally long reply must fit the window. */
  maxTurnTokens: z.number().int().positive().default(1_500),
  /** Minimum fastText probability of the source language when a language check is injected. */
  minSourceLangProb: z.number().min(0).max(1).default(0.5),
  /** Label the source is expected to carry. */
  sourceLabel: z.string().default('en'),
});

/** Resolved pre-filter thresholds. */
export type PrefilterOptions = z.infer<typeof prefilterOptionsSchema>;

/** Injected helpers: a token counter (tiktoken in activities) and an optional language identifier. */
export interface PrefilterDeps {
  countTokens: (text: string) => number;
  langId?: LangId;
}

const URL = /\b(?:https?|ftp):\/\/\S|\bwww\.[a-z0-9-]+\.[a-z]/i;

/** Drops conversations without a question and an answer, or with an empty turn (`agnostic_no_answer`). */
export function filterNoAnswer(item: AgnosticItem): Verdict {
  if (item.turns.length < 2 || item.turns.some((t) => t.trim().length === 0)) return drop('agnostic_no_answer');
  return KEEP;
}

/** Drops conversations that contain a URL (`agnostic_has_url`): linked pages are tied to their source and cannot be translated. */
export function filterUrl(item: AgnosticItem): Verdict {
  return item.turns.some((t) => URL.test(t)) ? drop('agnostic_has_url') : KEEP;
}

/** Drops conversations that cannot fit the context window, whole for the judge or turn by turn for translation (`agnostic_too_long`). */
export function filterTooLong(item: AgnosticItem, options: PrefilterOptions, deps: Pick<PrefilterDeps, 'countTokens'>): Verdict {
  let total = 0;
  for (const turn of item.turns) {
    const n = deps.countTokens(turn);
    if (n > options.maxTurnTokens) return drop('agnostic_too_long');
    total += n;
    if (total > options.maxConversationTokens) return drop('agnostic_too_long');
  }
  return KEEP;
}

/** Drops conversations whose first question is not in the source language (`agnostic_not_english`); keeps all when no identifier is given. */
export function filterSourceLanguage(item: AgnosticItem, options: PrefilterOptions, deps: Pick<PrefilterDeps, 'langId'>): Verdict {
  if (!deps.langId || item.turns.length === 0) return KEEP;
  // The first question carries the conversation's language.
  const { lang, score } = deps.langId.detect(item.turns[0]);
  return lang === options.sourceLabel && score >= options.minSourceLangProb ? KEEP : drop('agnostic_not_english');
}

/** The pre-filters in order, cheapest first; the first drop wins. */
export function prefilter(item: AgnosticItem, options: PrefilterOptions, deps: PrefilterDeps): Verdict {
  for (const step of [
    () => filterNoAnswer(item),
    () => filterUrl(item),
    () => filterSourceLanguage(item, options, deps),
    () => filterTooLong(item, options, deps),
  ]) {
    const verdict = step();
    if (!verdict.keep) return verdict;
  }
  return KEEP;
}
