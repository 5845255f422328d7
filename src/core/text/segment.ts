/**
 * Sentence-safe segmentation of a kept document into [min, max]-token segments (paper §2.1.1).
 *
 * Rules (tested in test/core/text/segment.test.ts):
 * - Segments are contiguous slices of the document: `segments.map(s => s.text).join('') === doc.text`.
 *   A cut falls right after a sentence end and the whitespace that follows it, so no text is ever lost.
 * - A cut never falls inside a sentence. A single sentence longer than max becomes its own segment.
 * - Remainder: a segment shorter than min is merged into the previous segment, or else into the next one,
 *   whenever the merged segment stays within max; otherwise it is kept as a short segment (never dropped).
 * - Token counts are exact cl100k_base counts of each segment's own text.
 *
 * Speed: no sentence segmenter runs over the document. One regex pass finds sentence ends; the piece index
 * the length filter left (or one token pass) gives each end's token position; the cuts are chosen from those;
 * each chosen slice's exact count comes from the same index, re-splitting only the few pieces at its edges.
 */
import type { Doc, Segment } from '../records';
import { stableHash } from '../random';
import { countRange, countTokens, pieceIndex, tokenPrefix, type PieceIndex } from './tokens';

/** Options of {@link segmentDocument}. */
export interface SegmentOptions {
  minTokens?: number;
  maxTokens?: number;
}

/** Leeway (tokens) kept below max when cutting on approximate positions, as slice counts can differ by a few. */
const CUT_MARGIN = 8;

/**
 * Sentence ends: Latin/Cyrillic terminators followed by whitespace and a non-lowercase character;
 * CJK full-width terminators (no space needed); and line ends (headings, list items, paragraphs).
 */
const SENTENCE_END =
  /[.!?…]+["'”’»)\]]*[ \t\u00a0]+(?=[^\s\p{Ll}])|[。！？]+[」』”’）》〉】"']*[ \t\u00a0]*|\n+[ \t]*/gu;

/** Words after which a period does not end a sentence (a nicety; initials are handled separately). */
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'jr', 'sr', 'mt', 'vs', 'fig', 'vol', 'mme', 'mlle', 'sra',
  'dra', 'sres', 'gen', 'col', 'lt', 'capt', 'rev', 'ca', 'cf', 'approx',
]);

/** Char offsets where a new sentence starts (excluding 0 and text.length), ascending. */
export function sentenceBoundaries(text: string): number[] {
  const out: number[] = [];
  SENTENCE_END.lastIndex = 0;
  for (let m = SENTENCE_END.exec(text); m !== null; m = SENTENCE_END.exec(text)) {
    const end = m.index + m[0].length;
    if (end >= text.length || end === 0) continue;
    if (m[0][0] === '.' && isAbbreviation(text, m.index)) continue;
    out.push(end);
  }
  return out;
}

/** True when the word before the period at `dot` is an initial (`J.`) or a listed abbreviation (`Dr.`). */
function isAbbreviation(text: string, dot: number): boolean {
  let start = dot;
  while (start > 0 && /[\p{L}]/u.test(text[start - 1])) start--;
  const word = text.slice(start, dot);
  if (word.length === 1 && /\p{Lu}/u.test(word)) return true;
  return ABBREVIATIONS.has(word.toLowerCase());
}

/** Splits a document into sentence-safe segments following the rules in this file's header. */
export function segmentDocument(doc: Doc, opts: SegmentOptions = {}): Segment[] {
  const min = opts.minTokens ?? 1000;
  const max = opts.maxTokens ?? 2000;
  const text = doc.text;
  // The length filter has already counted this exact text: counting it again would be a full extra pass.
  const total = doc.tokens ?? countTokens(text);
  if (total <= max) return text.length === 0 ? [] : [makeSegment(doc, 0, text, total)];

  const index = pieceIndex(text);
  const bounds = [0, ...sentenceBoundaries(text), text.length];
  const tokAt = tokenPrefix(text, bounds, index).slice(0, bounds.length);
  tokAt[bounds.length - 1] = total;
  const cuts = chooseCuts(tokAt, min, Math.max(min, max - CUT_MARGIN));

  let pieces = cuts.slice(0, -1).map((c, k) => {
    const start = bounds[c];
    const end = bounds[cuts[k + 1]];
    return { start, end, tokens: countRange(index, start, end) };
  });
  pieces = mergeShort(pieces, min, max, index);
  return pieces.map((p, i) => makeSegment(doc, i, text.slice(p.start, p.end), p.tokens));
}

/** A run of whole sentences: `text.slice(start, end)` and its exact count. */
interface Span {
  start: number;
  end: number;
  tokens: number;
}

/**
 * Picks boundary indices (first 0, last bounds.length-1). Each cut aims at an even share of what is left
 * (so the tail is rarely short), within [min, max]; with no boundary in range it takes the last one within
 * max, or else the next one (a sentence longer than max alone).
 */
function chooseCuts(tokAt: number[], min: number, max: number): number[] {
  const last = tokAt.length - 1;
  const cuts = [0];
  let s = 0;
  while (s < last) {
    const remaining = tokAt[last] - tokAt[s];
    if (remaining <= max) break;
    const target = tokAt[s] + remaining / Math.ceil(remaining / max);
    let best = -1;
    let lastWithin = -1;
    for (let j = s + 1; j < last && tokAt[j] - tokAt[s] <= max; j++) {
      lastWithin = j;
      if (tokAt[j] - tokAt[s] < min) continue;
      if (best === -1 || Math.abs(tokAt[j] - target) < Math.abs(tokAt[best] - target)) best = j;
    }
    const next = best !== -1 ? best : lastWithin !== -1 ? lastWithin : s + 1;
    if (next >= last) break;
    cuts.push(next);
    s = next;
  }
  cuts.push(last);
  return cuts;
}

/** Merges every piece shorter than min into a neighbour (previous first) when the result stays within max. */
function mergeShort(pieces: Span[], min: number, max: number, index: PieceIndex): Span[] {
  const out = [...pieces];
  for (let k = 0; k < out.length && out.length > 1; ) {
    if (out[k].tokens >= min) {
      k++;
      continue;
    }
    const merged =
      tryMerge(out, k - 1, max, index) ?? tryMerge(out, k, max, index);
    if (merged === undefined) k++;
    else k = Math.max(0, merged - 1);
  }
  return out;
}

/** Merges pieces i and i+1 in place if the exact count stays within max; returns i, or undefined. */
function tryMerge(pieces: Span[], i: number, max: number, index: PieceIndex): number | undefined {
  if (i < 0 || i + 1 >= pieces.length) return undefined;
  if (pieces[i].tokens + pieces[i + 1].tokens > max + 2) return undefined;
  const start = pieces[i].start;
  const end = pieces[i + 1].end;
  const tokens = countRange(index, start, end);
  if (tokens > max) return undefined;
  pieces.splice(i, 2, { start, end, tokens });
  return i;
}

function makeSegment(doc: Doc, index: number, text: string, tokens: number): Segment {
  return {
    id: stableHash(`${doc.pageId}\u0000${index}\u0000${text}`),
    lang: doc.lang,
    title: doc.title,
    pageId: doc.pageId,
    index,
    tokens,
    text,
  };
}
