/**
 * Prompt-echo measure (issue 7): small local models often return the prompt's own instructions instead of an
 * answer or a translation. Such an echo is in the target language, so only its overlap with the instructions
 * gives it away. Shared by the dialogue and translation gates; the translation gate's copy check (source text left
 * untranslated) uses the same shingle containment.
 */

/** Words per shingle for text written with spaces. */
export const ECHO_WORD_SHINGLE = 6;
/** Letters per shingle for text written without spaces (zh, ja, th…). */
export const ECHO_CHAR_SHINGLE = 12;
/**
 * An output with at least this share of its shingles copied from the instructions is an echo. A real answer or
 * translation shares almost no 6-word run with the instructions (they speak of the task, not of the content), while
 * an echo copies whole sentences; half leaves room for a real reply that restates a phrase of the task, and still
 * catches an echo with a short reply or lead-in of its own appended.
 */
export const ECHO_DROP_SHARE = 0.5;

// Scripts written without spaces between words: there a "word" would be a whole clause.
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/gu;
const LETTERS = /[\p{L}\p{M}\p{N}]+/gu;

/** How a text is cut into shingles: words, or letters for text written without spaces. */
export interface ShingleOptions {
  /** Words per shingle. */
  words: number;
  /** Shorter words are left out before shingling (1 keeps every word). */
  minWordLength: number;
  /** Letters per shingle for text written without spaces; defaults to ECHO_CHAR_SHINGLE. */
  chars?: number;
}

const ECHO_SHINGLES: ShingleOptions = { words: ECHO_WORD_SHINGLE, minWordLength: 1 };

/**
 * How many of `text`'s shingles also occur in `reference`, of how many: lower-cased and punctuation-insensitive,
 * word shingles, or letter shingles when `text` is written mostly without spaces (the same kind on both sides).
 * Containment, not symmetric: a short text copied from a long reference shares all its shingles.
 */
export function containment(text: string, reference: string, opts: ShingleOptions = ECHO_SHINGLES): { shared: number; total: number } {
  const unspaced = isUnspaced(text);
  const mine = shingles(text, unspaced, opts);
  const theirs = new Set(mine.length === 0 ? [] : shingles(reference, unspaced, opts));
  let shared = 0;
  for (const s of mine) if (theirs.has(s)) shared++;
  return { shared, total: mine.length };
}

/**
 * Share (0–1) of the output's shingles that also occur in `instructions`: 6-word shingles; 12-letter shingles for
 * text written mostly without spaces. A short echo of long instructions scores 1; an output too short to form one
 * shingle scores 0.
 */
export function echoShare(output: string, instructions: string): number {
  const { shared, total } = containment(output, instructions);
  return total === 0 ? 0 : shared / total;
}

/** True when `echoShare(output, instructions)` reaches `threshold` (default `ECHO_DROP_SHARE`). */
export function isPromptEcho(output: string, instructions: string, threshold = ECHO_DROP_SHARE): boolean {
  return echoShare(output, instructions) >= threshold;
}

/** True when most of a text's letters belong to a script written without spaces between words (zh, ja, th…). */
export function isUnspaced(text: string): boolean {
  const letters = text.match(LETTERS)?.join('') ?? '';
  if (letters === '') return false;
  const unspaced = letters.match(UNSPACED)?.length ?? 0;
  return unspaced * 2 >= [...letters].length;
}

function shingles(text: string, unspaced: boolean, opts: ShingleOptions): string[] {
  const words = text.toLowerCase().match(LETTERS) ?? [];
  // Shingles of the same kind on both sides, decided by the output, so a zh output is compared letter-wise to zh instructions.
  const units = unspaced ? [...words.join('')] : opts.minWordLength <= 1 ? words : words.filter((w) => [...w].length >= opts.minWordLength);
  const size = unspaced ? (opts.chars ?? ECHO_CHAR_SHINGLE) : opts.words;
  const sep = unspaced ? '' : ' ';
  const out: string[] = [];
  for (let i = 0; i + size <= units.length; i++) out.push(units.slice(i, i + size).join(sep));
  return out;
}
