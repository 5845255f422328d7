/**
 * Prompt-echo measure (issue 7): small local models often return the prompt's own instructions instead of an
 * answer or a translation. Such an echo is in the target language, so only its overlap with the instructions
 * gives it away. Shared by the dialogue and translation gates.
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

/**
 * Share (0–1) of the output's shingles that also occur in `instructions`: 6-word shingles, lower-cased and
 * punctuation-insensitive; 12-letter shingles for text written mostly without spaces. Containment, not symmetric:
 * a short echo of long instructions scores 1. An output too short to form one shingle scores 0.
 */
export function echoShare(output: string, instructions: string): number {
  const unspaced = isUnspaced(output);
  const mine = shingles(output, unspaced);
  if (mine.length === 0) return 0;
  const theirs = new Set(shingles(instructions, unspaced));
  let shared = 0;
  for (const s of mine) if (theirs.has(s)) shared++;
  return shared / mine.length;
}

/** True when `echoShare(output, instructions)` reaches `threshold` (default `ECHO_DROP_SHARE`). */
export function isPromptEcho(output: string, instructions: string, threshold = ECHO_DROP_SHARE): boolean {
  return echoShare(output, instructions) >= threshold;
}

function isUnspaced(text: string): boolean {
  const letters = text.match(LETTERS)?.join('') ?? '';
  if (letters === '') return false;
  const unspaced = letters.match(UNSPACED)?.length ?? 0;
  return unspaced * 2 >= [...letters].length;
}

function shingles(text: string, unspaced: boolean): string[] {
  const words = text.toLowerCase().match(LETTERS) ?? [];
  // Shingles of the same kind on both sides, decided by the output, so a zh output is compared letter-wise to zh instructions.
  const units = unspaced ? [...words.join('')] : words;
  const size = unspaced ? ECHO_CHAR_SHINGLE : ECHO_WORD_SHINGLE;
  const sep = unspaced ? '' : ' ';
  const out: string[] = [];
  for (let i = 0; i + size <= units.length; i++) out.push(units.slice(i, i + size).join(sep));
  return out;
}
