/** Whether a text reads as finished: the one test behind the answer gate (dialogue_unfinished) and the quality report. */

// Characters after which an answer may legitimately end: sentence ends, closers, digits (math),
// and code / formula endings. Anything else (a letter, a comma, an opener) reads as cut mid-sentence.
const TRUNCATED_END = /[\p{L},;:、，；：(（[{《「『“‘\-–—]$/u;

/** True when an answer seems cut mid-sentence: it ends on a letter, comma, colon or opener. */
export function looksTruncated(text: string): boolean {
  const t = text.trim().replace(/[*_\s]+$/u, '');
  if (!t) return false;
  if (/```\s*$/.test(t)) return false;
  return TRUNCATED_END.test(t);
}
