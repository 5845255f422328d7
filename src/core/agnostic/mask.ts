/**
 * Protects what Figure 10 says to copy verbatim (code, LaTeX, URLs, citations) by swapping it for
 * placeholders ⟦P0⟧, ⟦P1⟧, … before translation and restoring it after, byte for byte.
 */
import { escapeRegExp } from '../text/regexp';

/** Placeholder text for slot n. */
export function placeholder(n: number): string {
  return `\u27e6P${n}\u27e7`;
}

/** A text with its protected spans replaced by placeholders; `slots[n]` is the original text of ⟦Pn⟧. */
export interface Masked {
  masked: string;
  slots: string[];
}

/** Why a translated text cannot be restored. */
export type PlaceholderFault = 'translate_placeholder_lost' | 'translate_placeholder_altered' | 'translate_placeholder_duplicated';

/** Result of restoring the protected spans into a translation. */
export type Unmasked = { ok: true; text: string } | { ok: false; reason: PlaceholderFault };

// Alternatives are tried left to right at each position, so longer delimiters come first ($$ before $).
const PROTECTED = new RegExp(
  [
    // Fenced code block; an unclosed fence (cut-off answer) runs to the end of the text.
    String.raw`(?:^|(?<=\n))[ \t]*(\x60{3,}|~{3,})[^\n]*(?:(?:\n[\s\S]*?)?\n[ \t]*\1[^\S\n]*(?=\n|$)|[\s\S]*$)`,
    // Display and inline LaTeX.
    String.raw`\$\$[\s\S]+?\$\$`,
    String.raw`\\\[[\s\S]+?\\\]`,
    String.raw`\\\([\s\S]+?\\\)`,
    // Inline $…$ on one line: no space just inside the dollars, no digit right after, no backtick inside
    // ("$5 and $10" is money; a backtick means the dollar belongs to code).
    String.raw`\$(?=[^\s$\x60])[^\n$\x60]*?[^\s$\\\x60]\$(?!\d)`,
    // Inline code on one line, single or multiple backticks (a stray backtick as in "don`t" matches nothing).
    String.raw`(\x60+)(?!\x60)[^\n]*?[^\x60\n]\2(?!\x60)`,
    // URLs; trailing sentence punctuation is left outside (trimmed below).
    String.raw`\b(?:https?|ftp)://[^\s<>"'\x60]+`,
    String.raw`\bwww\.[^\s<>"'\x60]+\.[^\s<>"'\x60]+`,
    // Numeric citations: [1], [12], [1, 2], [3-5].
    String.raw`\[\d{1,3}(?:\s*[,\u2013-]\s*\d{1,3})*\]`,
    // Placeholder-like text already in the source, and stray brackets, are protected too so unmask stays exact.
    String.raw`\u27e6P\d+\u27e7|[\u27e6\u27e7]`,
  ].join('|'),
  'g',
);

const TRAILING_PUNCT = /[.,;:!?)\]}'"]+$/;

/** Trims sentence punctuation off a URL match, keeping a closing parenthesis that balances one inside it. */
function urlEnd(url: string): string {
  let out = url.replace(TRAILING_PUNCT, '');
  const rest = url.slice(out.length);
  for (const ch of rest) {
    if (ch === ')' && (out.match(/\(/g)?.length ?? 0) > (out.match(/\)/g)?.length ?? 0)) out += ch;
    else break;
  }
  return out;
}

/** Replaces code blocks, inline code, LaTeX, URLs and numeric citations with ⟦Pn⟧ placeholders, numbered in order. */
export function mask(text: string): Masked {
  const slots: string[] = [];
  let masked = '';
  let last = 0;
  PROTECTED.lastIndex = 0;
  for (let m = PROTECTED.exec(text); m !== null; m = PROTECTED.exec(text)) {
    const start = m.index;
    const span = /^(?:(?:https?|ftp):\/\/|www\.)/i.test(m[0]) ? urlEnd(m[0]) : m[0];
    if (span.length === 0) {
      PROTECTED.lastIndex = m.index + 1;
      continue;
    }
    masked += text.slice(last, start) + placeholder(slots.length);
    slots.push(span);
    last = start + span.length;
    PROTECTED.lastIndex = last;
  }
  masked += text.slice(last);
  return { masked, slots };
}

const EXACT = /\u27e6P(\d+)\u27e7/g;
// Traces of a placeholder a model rewrote: brackets of either kind around P and a number, or a lone bracket.
const LOOSE = /[\u27e6\u27e7]|\[\[\s*P\s*\d+\s*\]\]|\[\s*P\d+\s*\]/i;

/** Restores the protected spans; fails when a placeholder is missing, rewritten or repeated (order may change: target word order differs). */
export function unmask(translated: string, slots: string[]): Unmasked {
  const seen = new Array<number>(slots.length).fill(0);
  let outOfRange = false;
  for (const m of translated.matchAll(EXACT)) {
    const n = Number(m[1]);
    if (n < slots.length && m[1] === String(n)) seen[n]++;
    else outOfRange = true;
  }
  const rest = translated.replace(EXACT, '');
  if (outOfRange || LOOSE.test(rest)) return { ok: false, reason: 'translate_placeholder_altered' };
  if (seen.some((c) => c > 1)) return { ok: false, reason: 'translate_placeholder_duplicated' };
  if (seen.some((c) => c === 0)) return { ok: false, reason: 'translate_placeholder_lost' };
  const text = translated.replace(EXACT, (_, n: string) => slots[Number(n)]);
  return { ok: true, text };
}

/** A masked text with each placeholder replaced by a space: its prose alone. */
export function withoutPlaceholders(masked: string): string {
  return masked.replace(EXACT, ' ');
}

/** Share of a masked text that is prose: letters outside placeholders over all non-space characters once restored. */
export function proseShare(masked: string, slots: string[]): { letters: number; share: number } {
  const prose = withoutPlaceholders(masked);
  const letters = (prose.match(/\p{L}/gu) ?? []).length;
  const total = prose.replace(/\s+/g, '').length + slots.reduce((sum, s) => sum + s.replace(/\s+/g, '').length, 0);
  return { letters, share: total === 0 ? 0 : letters / total };
}

/** A run of a text to translate: prose (`translate`), or what is copied as it is (a block, the whitespace around prose). */
export interface TextPiece {
  translate: boolean;
  text: string;
}

const BLOCK_LINE = /^[ \t]*\u27e6P(\d+)\u27e7[ \t]*$/;

/**
 * Cuts a text at its block-level protected spans (a code block or display formula alone on its lines) into pieces
 * whose concatenation is the text. Each prose run between blocks is translated in a call of its own, so no model
 * ever has to carry a block's placeholder through: small ones drop a ⟦Pn⟧ that stands on a line of its own, above
 * all at the start or end of a reply. Runs with no letters outside placeholders, and the whitespace around each
 * run, are copied.
 */
export function splitForTranslation(text: string): TextPiece[] {
  const { masked, slots } = mask(text);
  const restore = (s: string) => s.replace(EXACT, (_, n: string) => slots[Number(n)]!);
  const pieces: TextPiece[] = [];
  let prose = '';
  const flushProse = () => {
    const [, lead, body, trail] = /^(\s*)([\s\S]*?)(\s*)$/.exec(prose)!;
    const hasLetters = /\p{L}/u.test(withoutPlaceholders(body!));
    pieces.push({ translate: false, text: lead! }, { translate: hasLetters, text: restore(body!) }, { translate: false, text: trail! });
    prose = '';
  };
  // Lines keep their newline, so the pieces join back with nothing between them.
  for (const line of masked.split(/(?<=\n)/)) {
    const block = BLOCK_LINE.exec(line.replace(/\n$/, ''));
    if (block === null) {
      prose += line;
      continue;
    }
    flushProse();
    pieces.push({ translate: false, text: restore(line) });
  }
  flushProse();
  // Adjacent copied pieces merge; empty ones go.
  const out: TextPiece[] = [];
  for (const p of pieces) {
    if (p.text === '') continue;
    const last = out.at(-1);
    if (last && !last.translate && !p.translate) last.text += p.text;
    else out.push({ ...p });
  }
  return out;
}

/**
 * The inverse view of `mask` for a reply to the unmasked text: each protected span of the source found verbatim in
 * `text` becomes its placeholder again (longest spans first; spans with the same text take their placeholders in
 * order, the longest at each position), so `unmask` and the checks judge it as a masked reply. A span changed or missing stays missing: unmask
 * reports it lost; one found more often than the source holds it is duplicated.
 */
export function maskBySlots(text: string, slots: string[]): string {
  const indices = new Map<string, number[]>();
  slots.forEach((s, n) => indices.set(s, [...(indices.get(s) ?? []), n]));
  const spans = [...indices.keys()].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  if (spans.length === 0) return text;
  const seen = new Map<string, number>();
  return text.replace(new RegExp(spans.map(escapeRegExp).join('|'), 'g'), (span) => {
    const ns = indices.get(span)!;
    const k = seen.get(span) ?? 0;
    seen.set(span, k + 1);
    // Past the source's count the last placeholder repeats, which unmask reports as duplicated.
    return placeholder(ns[Math.min(k, ns.length - 1)]!);
  });
}
