/**
 * cl100k_base token counting (paper §2.1.1: lengths are counted with tiktoken).
 *
 * tiktoken BPE-encodes each piece of its pre-tokenizer regex on its own, so a text's count is the sum
 * of its pieces' counts. We split with the same regex in JS and memoise short pieces' counts; only
 * unseen pieces go to the wasm encoder. Counts stay exact (test/core/text/tokens.test.ts compares them
 * with a whole-text encode on every shared dump) and repeat words cost a Map lookup.
 */
import { get_encoding, type Tiktoken } from 'tiktoken';

/**
 * cl100k_base's pre-tokenizer. `(?i:…)` spelled out (Node 20 lacks inline flags); `\s` written as
 * White_Space, which is what the Rust regex means by `\s` (JS `\s` differs on U+0085 and U+FEFF).
 */
const PIECE =
  /'(?:[sdmtSDMT]|[rR][eE]|[vV][eE]|[lL][lL])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\p{White_Space}\p{L}\p{N}]+[\r\n]*|\p{White_Space}*[\r\n]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/** Pieces longer than this are encoded without memoising (they rarely repeat). */
const MEMO_MAX_PIECE = 24;
/** Memo size at which it is cleared, to bound memory on a long-running worker. */
const MEMO_MAX_ENTRIES = 400_000;

let encoder: Tiktoken | undefined;
const memo = new Map<string, number>();

/** The one shared cl100k_base encoder: the wasm encoder is costly to build and is never freed. */
export function cl100k(): Tiktoken {
  const enc = encoder ?? get_encoding('cl100k_base');
  encoder = enc;
  return enc;
}

function pieceCount(piece: string): number {
  if (piece.length > MEMO_MAX_PIECE) return cl100k().encode_ordinary(piece).length;
  let n = memo.get(piece);
  if (n === undefined) {
    n = cl100k().encode_ordinary(piece).length;
    if (memo.size >= MEMO_MAX_ENTRIES) memo.clear();
    memo.set(piece, n);
  }
  return n;
}

/**
 * Exact cl100k_base token count; special-token strings such as `<|endoftext|>` count as plain text.
 * With `limit`, counting stops once the count exceeds it and the result is only known to be > limit:
 * a length filter needs no more, and an over-long article is read to its first `limit` tokens only.
 */
export function countTokens(text: string, limit = Infinity): number {
  let n = 0;
  PIECE.lastIndex = 0;
  for (let m = PIECE.exec(text); m !== null && n <= limit; m = PIECE.exec(text)) n += pieceCount(m[0]);
  return n;
}

/**
 * Token counts before each char offset in `offsets` (ascending): the tokens of the pieces that end at or
 * before it. Exact at piece boundaries; the last entry of the result is the text's total.
 */
export function tokenPrefix(text: string, offsets: readonly number[]): number[] {
  const out = new Array<number>(offsets.length + 1);
  let n = 0;
  let k = 0;
  PIECE.lastIndex = 0;
  for (let m = PIECE.exec(text); m !== null; m = PIECE.exec(text)) {
    const end = m.index + m[0].length;
    while (k < offsets.length && offsets[k] < end) out[k++] = n;
    n += pieceCount(m[0]);
  }
  while (k < offsets.length) out[k++] = n;
  out[offsets.length] = n;
  return out;
}
