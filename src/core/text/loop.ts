/**
 * Degenerate repetition: a small model that starts writing the same words again and again ("le50 de, le50 de, …",
 * "The year is 2023. The year is 2023. …") does not stop by itself, and runs to its token or time limit.
 */

/** What counts as a loop: the text ends in `minRepeats` or more copies of one unit, spanning at least the given characters. */
export interface LoopOptions {
  minRepeats: number;
  minUnitChars: number;
  maxUnitChars: number;
  /** Span of the copies when the unit holds a letter. */
  minSpanChars: number;
  /** Span when it holds none (digits, rules, table borders): long enough that a code separator or a table is not one. */
  minSpanCharsNoLetter: number;
}

/** The loop check's defaults. */
export const LOOP_OPTIONS: LoopOptions = { minRepeats: 4, minUnitChars: 3, maxUnitChars: 120, minSpanChars: 60, minSpanCharsNoLetter: 160 };

/** True when `text` ends in one unit written again and again (any rotation of it: the text may stop mid-unit). */
export function endsInLoop(text: string, opts: LoopOptions = LOOP_OPTIONS): boolean {
  // Runs on every generated chunk: a unit whose last character differs from the one a unit earlier is ruled out
  // before any slicing, and no unit longer than a quarter of the text can repeat minRepeats times.
  for (let unit = opts.minUnitChars; unit <= opts.maxUnitChars && unit * opts.minRepeats <= text.length; unit++) {
    if (text[text.length - 1] !== text[text.length - 1 - unit]) continue;
    const tail = text.slice(-unit);
    const span = /\p{L}/u.test(tail) ? opts.minSpanChars : opts.minSpanCharsNoLetter;
    const copies = Math.max(opts.minRepeats, Math.ceil(span / unit));
    if (text.length < unit * copies) continue;
    let repeated = true;
    for (let k = 2; k <= copies && repeated; k++) repeated = text.slice(text.length - unit * k, text.length - unit * (k - 1)) === tail;
    if (repeated) return true;
  }
  return false;
}
