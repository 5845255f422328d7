/**
 * cl100k_base token counting (paper §2.1.1: lengths are counted with tiktoken).
 *
 * tiktoken BPE-encodes each piece of its pre-tokenizer regex on its own, so a text's count is the sum
 * of its pieces' counts. We split the same way in JS, count each piece with a JS port of tiktoken's
 * byte-pair merge over the cl100k_base rank table, and memoise short pieces' counts. Counts stay exact
 * (test/core/text/tokens.test.ts checks the split against the regex and the counts against tiktoken's wasm
 * encoder, on tricky strings and every shared dump); a JS merge costs far less than a call into the wasm
 * encoder, which re-splits each piece.
 */
import cl100kBase from 'tiktoken/encoders/cl100k_base';
import { get_encoding, type Tiktoken } from 'tiktoken';

/**
 * cl100k_base's pre-tokenizer, as tiktoken writes it:
 *
 *   '(?i:[sdmt]|re|ve|ll)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *
 * with `\s` meaning White_Space (Rust's `\s`). {@link pieceEnd} runs it by hand: a unicode regex costs three
 * times as much per piece. Every character starts some alternative, so the pieces tile the text.
 */
const LETTER = 1;
const NUMBER = 2;
const SPACE = 3; // White_Space other than \r and \n
const NEWLINE = 4; // \r or \n
const OTHER = 5; // none of the above, lone surrogates included

/** Class of each BMP code unit, filled on first sight (0: not yet). */
const bmpClass = new Uint8Array(1 << 16);
const IS_LETTER = /^\p{L}$/u;
const IS_NUMBER = /^\p{N}$/u;
const IS_SPACE = /^\p{White_Space}$/u;

function classOfCodePoint(cp: number): number {
  if (cp === 10 || cp === 13) return NEWLINE;
  const ch = String.fromCodePoint(cp);
  return IS_LETTER.test(ch) ? LETTER : IS_NUMBER.test(ch) ? NUMBER : IS_SPACE.test(ch) ? SPACE : OTHER;
}

/** Class of the code point at `i` times 4 plus its width in code units (1, or 2 for a surrogate pair). */
function classAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdfff) {
    let k = bmpClass[c];
    if (k === 0) k = bmpClass[c] = classOfCodePoint(c);
    return (k << 2) | 1;
  }
  const d = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
  if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) return (classOfCodePoint(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000) << 2) | 2;
  return (OTHER << 2) | 1;
}

/** Lower-cases an ASCII letter's code (and leaves the case-insensitive comparisons below exact). */
const lower = (c: number) => c | 0x20;

/** End of the pre-tokenizer piece that starts at `s` (< text.length): the regex's alternatives, in order. */
function pieceEnd(text: string, s: number): number {
  const n = text.length;
  const c0 = text.charCodeAt(s);
  // '(?i:[sdmt]|re|ve|ll)
  if (c0 === 39 && s + 1 < n) {
    const c1 = lower(text.charCodeAt(s + 1));
    if (c1 === 115 || c1 === 100 || c1 === 109 || c1 === 116) return s + 2;
    const c2 = s + 2 < n ? lower(text.charCodeAt(s + 2)) : 0;
    if (c2 === 101 ? c1 === 114 || c1 === 118 : c2 === 108 && c1 === 108) return s + 3;
  }
  const first = classAt(text, s);
  const k0 = first >> 2;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  let p = k0 === LETTER ? s : (k0 === SPACE || k0 === OTHER) && s + (first & 3) < n && classAt(text, s + (first & 3)) >> 2 === LETTER ? s + (first & 3) : -1;
  if (p >= 0) {
    for (let k = classAt(text, p); p < n && k >> 2 === LETTER; k = p < n ? classAt(text, p) : 0) p += k & 3;
    return p;
  }
  // \p{N}{1,3}
  if (k0 === NUMBER) {
    p = s;
    for (let j = 0; j < 3 && p < n; j++) {
      const k = classAt(text, p);
      if (k >> 2 !== NUMBER) break;
      p += k & 3;
    }
    return p;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  p = c0 === 32 && s + 1 < n && classAt(text, s + 1) >> 2 === OTHER ? s + 1 : s;
  if (classAt(text, p) >> 2 === OTHER) {
    for (let k = classAt(text, p); p < n && k >> 2 === OTHER; k = p < n ? classAt(text, p) : 0) p += k & 3;
    while (p < n && (text.charCodeAt(p) === 10 || text.charCodeAt(p) === 13)) p++;
    return p;
  }
  // Here text[s] is white space; its run ends at r.
  let r = s;
  while (r < n) {
    const k = classAt(text, r) >> 2;
    if (k !== SPACE && k !== NEWLINE) break;
    r++; // white space is all in the BMP
  }
  // \s*[\r\n]+ backtracks to the run's last line break.
  for (let q = r - 1; q >= s; q--) {
    const c = text.charCodeAt(q);
    if (c === 10 || c === 13) return q + 1;
  }
  // \s+(?!\S) leaves the run's last space to the next piece unless the text ends; else \s+.
  return r < n && r - 1 > s ? r - 1 : r;
}

/** Pieces longer than this are counted without memoising (they rarely repeat). */
const MEMO_MAX_PIECE = 24;
/** Memo size at which it is cleared, to bound memory on a long-running worker (under half of its 2^20 slots). */
const MEMO_MAX_ENTRIES = 400_000;
const MEMO_BITS = 20;

/**
 * Open-addressing map from strings to non-negative ints, looked up by a slice of a longer string without
 * making the slice: the byte-pair merge probes the rank table twice per merge and allocates nothing for it.
 */
class SliceMap {
  /** Slot → 1 + index into keys (0: empty); slots stay at most half full. */
  private readonly slots: Int32Array;
  private readonly hashes: Int32Array;
  private readonly keys: string[] = [];
  private readonly values: number[] = [];
  private readonly mask: number;

  constructor(bits: number) {
    this.mask = (1 << bits) - 1;
    this.slots = new Int32Array(1 << bits);
    this.hashes = new Int32Array(1 << bits);
  }

  /** Number of keys stored. */
  get size(): number {
    return this.keys.length;
  }

  /** Forgets every key. */
  clear(): void {
    this.slots.fill(0);
    this.keys.length = 0;
    this.values.length = 0;
  }

  /** The value stored for `s.slice(from, to)` (whose {@link hashSlice} is `h`), or -1. */
  get(s: string, from: number, to: number, h: number): number {
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const slot = this.slots[i];
      if (slot === 0) return -1;
      if (this.hashes[i] !== h) continue;
      const key = this.keys[slot - 1];
      if (key.length === to - from && s.startsWith(key, from)) return this.values[slot - 1];
    }
  }

  /** Stores `value` for `key` (absent; `h` its hash). The caller keeps size under half the capacity. */
  set(key: string, h: number, value: number): void {
    let i = h & this.mask;
    while (this.slots[i] !== 0) i = (i + 1) & this.mask;
    this.keys.push(key);
    this.values.push(value);
    this.slots[i] = this.keys.length;
    this.hashes[i] = h;
  }
}

/** FNV-1a over the UTF-16 units of `s.slice(from, to)`, finished with a mix so the low bits spread. */
function hashSlice(s: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) ^ (h >>> 12);
}

let encoder: Tiktoken | undefined;
let ranks: SliceMap | undefined;
/** Rank of each two-byte token at index (b0 << 8) | b1, Infinity when that pair is no token. */
let pairRanks: Float64Array | undefined;
/** Counts of short pieces, looked up by slice so that a hit allocates nothing. */
const memo = new SliceMap(MEMO_BITS);
const utf8 = new TextEncoder();

/** The wasm cl100k_base encoder (tests use it as the reference); costly to build and never freed. */
export function cl100k(): Tiktoken {
  const enc = encoder ?? get_encoding('cl100k_base');
  encoder = enc;
  return enc;
}

/** cl100k_base merge ranks keyed by token bytes as a latin1 string (one char per byte), built once. */
function rankTable(): SliceMap {
  if (ranks !== undefined) return ranks;
  const table = new SliceMap(18);
  const pairs = new Float64Array(1 << 16).fill(Infinity);
  // tiktoken's format: per line a name, the first rank, then one base64 token per consecutive rank.
  for (const line of cl100kBase.bpe_ranks.split('\n')) {
    const fields = line.split(' ');
    const first = Number(fields[1]);
    for (let i = 2; i < fields.length; i++) {
      const bytes = atob(fields[i]);
      table.set(bytes, hashSlice(bytes, 0, bytes.length), first + i - 2);
      if (bytes.length === 2) pairs[(bytes.charCodeAt(0) << 8) | bytes.charCodeAt(1)] = first + i - 2;
    }
  }
  pairRanks = pairs;
  ranks = table;
  return table;
}

/** UTF-8 bytes of `s` as a latin1 string; lone surrogates become U+FFFD, as tiktoken's TextEncoder makes them. */
function utf8Bytes(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) < 0x80;
  if (ascii) return s;
  const bytes = utf8.encode(s);
  let out = '';
  for (let i = 0; i < bytes.length; i += 4096) out += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return out;
}

// Work arrays of the byte-pair merge, grown on demand: start of each part, and rank of each part merged with the next.
let partStart = new Int32Array(64);
let pairRank = new Float64Array(64);

/** Rank of the token `bytes.slice(from, to)`, Infinity when it is none. */
function rankOf(table: SliceMap, bytes: string, from: number, to: number): number {
  const rank = table.get(bytes, from, to, hashSlice(bytes, from, to));
  return rank < 0 ? Infinity : rank;
}

/** Number of tokens tiktoken's byte-pair merge gives one piece (its `_byte_pair_merge`, lowest rank first, leftmost on ties). */
function bpeCount(bytes: string): number {
  const table = rankTable();
  const pairs = pairRanks!;
  const n = bytes.length;
  if (n === 0) return 0;
  if (rankOf(table, bytes, 0, n) !== Infinity) return 1;
  if (partStart.length <= n) {
    partStart = new Int32Array(2 * n + 2);
    pairRank = new Float64Array(2 * n + 2);
  }
  const start = partStart;
  const pair = pairRank;
  for (let i = 0; i <= n; i++) start[i] = i;
  for (let i = 0; i + 1 < n; i++) pair[i] = pairs[(bytes.charCodeAt(i) << 8) | bytes.charCodeAt(i + 1)];
  pair[n - 1] = Infinity;
  let parts = n;
  for (;;) {
    let best = 0;
    for (let i = 1; i < parts; i++) if (pair[i] < pair[best]) best = i;
    if (pair[best] === Infinity) break;
    // Part best+1 joins part best: drop its start and its pair rank.
    for (let i = best + 1; i < parts; i++) start[i] = start[i + 1];
    for (let i = best + 1; i < parts - 1; i++) pair[i] = pair[i + 1];
    parts--;
    pair[best] = best + 1 < parts ? rankOf(table, bytes, start[best], start[best + 2]) : Infinity;
    if (best > 0) pair[best - 1] = rankOf(table, bytes, start[best - 1], start[best + 1]);
  }
  return parts;
}

/** Token count of the piece `s.slice(from, to)`, memoised when short. */
function pieceCount(s: string, from: number, to: number): number {
  if (to - from > MEMO_MAX_PIECE) return bpeCount(utf8Bytes(s.slice(from, to)));
  const h = hashSlice(s, from, to);
  let n = memo.get(s, from, to, h);
  if (n < 0) {
    const piece = s.slice(from, to);
    n = bpeCount(utf8Bytes(piece));
    if (memo.size >= MEMO_MAX_ENTRIES) memo.clear();
    memo.set(piece, h, n);
  }
  return n;
}

/** The regex split of one text counted to its end: piece k ends at `ends[k]`; `cum[k]` counts pieces 0..k. */
export interface PieceIndex {
  text: string;
  size: number;
  ends: Int32Array;
  cum: Int32Array;
}

// The last text counted to its end keeps its piece index, so the segmenter, which runs right after the
// length filter on the same text, reads the index instead of splitting the text again.
let ends: Int32Array = new Int32Array(1 << 12);
let cum: Int32Array = new Int32Array(1 << 12);
let indexed: { text: string; size: number } | undefined;

/**
 * Exact cl100k_base token count; special-token strings such as `<|endoftext|>` count as plain text.
 * With `limit`, counting stops once the count exceeds it and the result is only known to be > limit:
 * a length filter needs no more, and an over-long article is read to its first `limit` tokens only.
 */
export function countTokens(text: string, limit = Infinity): number {
  indexed = undefined;
  let n = 0;
  let k = 0;
  let at = 0;
  while (n <= limit && at < text.length) {
    const end = pieceEnd(text, at);
    n += pieceCount(text, at, end);
    if (k === ends.length) {
      ends = grow(ends);
      cum = grow(cum);
    }
    ends[k] = end;
    cum[k++] = n;
    at = end;
  }
  if (at === text.length) indexed = { text, size: k };
  return n;
}

function grow(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** The piece index of `text`: a copy of the one {@link countTokens} kept if it last counted this text, else a fresh count. */
export function pieceIndex(text: string): PieceIndex {
  if (indexed?.text !== text) countTokens(text);
  const size = indexed!.size;
  return { text, size, ends: ends.slice(0, size), cum: cum.slice(0, size) };
}

/**
 * Token counts before each char offset in `offsets` (ascending): the tokens of the pieces that end at or
 * before it. Exact at piece boundaries; the last entry of the result is the text's total.
 */
export function tokenPrefix(text: string, offsets: readonly number[], index = pieceIndex(text)): number[] {
  const out = new Array<number>(offsets.length + 1);
  let k = 0;
  for (let p = 0; p < index.size; p++) {
    const before = p === 0 ? 0 : index.cum[p - 1];
    while (k < offsets.length && offsets[k] < index.ends[p]) out[k++] = before;
  }
  const total = index.size === 0 ? 0 : index.cum[index.size - 1];
  while (k < offsets.length) out[k++] = total;
  out[offsets.length] = total;
  return out;
}

const WHITE_SPACE_RUN = /\p{White_Space}*/uy;

/**
 * Exact count of `text.slice(from, to)` from the index of the whole text. The slice is split on its own up
 * to the first piece end the whole text shares; from there the whole text's pieces are the slice's own as
 * long as the regex, matching them, never looked at `to` or beyond (where the slice has its end of text),
 * so their counts are summed from the index; the last pieces, which may have, are split from the slice again.
 */
export function countRange(index: PieceIndex, from: number, to: number): number {
  if (to <= from) return 0;
  const { text, ends, cum, size } = index;
  const slice = text.slice(from, to);
  // What the regex may read when matching at s, bounded from above: the code point at the match's end (two
  // units when astral), s+3, and the end of a white-space run starting at s (it backtracks over the run).
  const safe = (p: number) => {
    const start = p === 0 ? 0 : ends[p - 1];
    if (ends[p] + 1 >= to || start + 3 >= to) return false;
    WHITE_SPACE_RUN.lastIndex = start;
    WHITE_SPACE_RUN.test(text);
    return WHITE_SPACE_RUN.lastIndex < to;
  };
  let n = 0;
  let k = firstEndAfter(ends, size, from);
  let synced = false;
  let at = 0;
  while (at < slice.length) {
    const end = pieceEnd(slice, at);
    n += pieceCount(slice, at, end);
    at = end;
    if (synced) continue;
    while (k < size && ends[k] < from + end) k++;
    if (k === size || ends[k] !== from + end) continue;
    synced = true;
    // Pieces k+1 .. j-1 are shared; piece j is the first unsafe one (unsafety holds for every piece after it).
    let j = firstEndAfter(ends, size, to - 1);
    while (j - 1 > k && !safe(j - 1)) j--;
    if (j - 1 > k) {
      n += cum[j - 1] - cum[k];
      at = ends[j - 1] - from;
    }
  }
  return n;
}

/** Smallest k with ends[k] > at (size when none). */
function firstEndAfter(ends: Int32Array, size: number, at: number): number {
  let lo = 0;
  let hi = size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ends[mid] > at) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
