/** Traditional → simplified Chinese with OpenCC (paper §2.1.1), selected per language by config. */
import type * as OpenCCTypes from 'opencc-js' with { 'resolution-mode': 'import' };
import { isUnspaced } from './echo';

// The package is ESM-typed but ships a UMD build for require.
const OpenCC = require('opencc-js') as typeof OpenCCTypes;

/** Script conversion named by a language's config entry (`scriptConversion`). */
export type ScriptConversion = 't2s' | 'none' | undefined;

let t2s: ((text: string) => string) | undefined;
let traditionalOnly: Set<string> | undefined;

// 'tw' → 'cn' left the fewest traditional characters on the shared zhwiki pages (6 of 495k chars, against
// 191 for 'hk'); chaining hk+tw variants changed nothing more. 'twp' also rewrites Taiwanese vocabulary.
function converter(): (text: string) => string {
  const convert = t2s ?? OpenCC.Converter({ from: 'tw', to: 'cn' });
  t2s = convert;
  return convert;
}

/** Converts traditional Chinese to simplified (one shared converter per process). */
export function toSimplified(text: string): string {
  return converter()(text);
}

/** Applies a configured script conversion; unknown or absent conversions leave the text unchanged. */
export function convertScript(text: string, conversion: ScriptConversion): string {
  return conversion === 't2s' ? toSimplified(text) : text;
}

/** Dictionary entries `key value|key value` of a DictLike. */
function entries(dict: OpenCCTypes.DictLike): Array<readonly [string, string]> {
  if (typeof dict !== 'string') return [...dict];
  return dict.split('|').map((pair) => {
    const space = pair.indexOf(' ');
    return [pair.slice(0, space), pair.slice(space + 1)] as const;
  });
}

/** Characters that t2s changes and that no simplified-side dictionary entry contains. */
function traditionalOnlySet(): Set<string> {
  if (traditionalOnly) return traditionalOnly;
  // Simplified-side characters: t2s outputs, plus the keys of the s2t dictionaries (simplified words).
  const simplified = new Set<string>();
  for (const group of OpenCC.Locale.to.cn) {
    for (const dict of group) for (const [, value] of entries(dict)) for (const ch of value) simplified.add(ch);
  }
  for (const group of OpenCC.Locale.from.cn) {
    for (const dict of group) for (const [key] of entries(dict)) for (const ch of key) simplified.add(ch);
  }
  const candidates = new Set<string>();
  for (const groups of [OpenCC.Locale.to.cn, OpenCC.Locale.from.tw, OpenCC.Locale.from.hk]) {
    for (const group of groups) {
      for (const dict of group) for (const [key] of entries(dict)) if ([...key].length === 1) candidates.add(key);
    }
  }
  const out = new Set<string>();
  for (const ch of candidates) if (!simplified.has(ch) && toSimplified(ch) !== ch) out.add(ch);
  traditionalOnly = out;
  return out;
}

/** Number of characters in `text` that only traditional script uses (a quality-report measure). */
export function countTraditionalOnlyChars(text: string): number {
  const set = traditionalOnlySet();
  let n = 0;
  for (const ch of text) if (set.has(ch)) n++;
  return n;
}

// A Cyrillic letter glued to a Latin or Han one inside a word: what a small model writes when it slips between
// scripts mid-word ("ТуPле", "deли", "在Как"). Latin glued to Han is such a slip too in a text written with spaces
// ("Dans英国", "the经典 history"), but ordinary zh ("在Python中"). Greek is left out, since formulas glue it to Latin
// ("2πr", "μm").
const CYRILLIC = /\p{Script=Cyrillic}/u;
const LATIN = /\p{Script=Latin}/u;
const HAN = /\p{Script=Han}/u;

/** The words (letter runs) of `text` that mix scripts as above, in order of first appearance. */
export function mixedScriptWords(text: string): string[] {
  const words = text.match(/[\p{L}\p{M}]+/gu) ?? [];
  const spaced = !isUnspaced(text);
  const mixed = (w: string) => (CYRILLIC.test(w) && (LATIN.test(w) || HAN.test(w))) || (spaced && LATIN.test(w) && HAN.test(w));
  return [...new Set(words.filter(mixed))];
}

/** True when `text` holds a mixed-script word that `reference` (the document or source it came from) does not. */
export function hasNewMixedScriptWord(text: string, reference: string): boolean {
  const mixed = mixedScriptWords(text);
  if (mixed.length === 0) return false;
  const known = new Set(mixedScriptWords(reference));
  return mixed.some((w) => !known.has(w));
}
