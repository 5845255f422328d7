import { describe, expect, it } from 'vitest';
import { randomInt, rngFor } from '../../../src/core/random';
import { cl100k, countRange, countTokens, pieceIndex, tokenPrefix } from '../../../src/core/text/tokens';
import { cleanWikitext } from '../../../src/core/wiki/wikitext';
import { HAVE_SHARED_DATA, SHARED_DATA_MISSING } from '../../support/shared-data';
import { articles, readPages, targetDumps } from './dump-pages';

const exact = (text: string) => cl100k().encode_ordinary(text).length;

/** cl100k_base's pre-tokenizer as a JS regex (`\s` is White_Space in tiktoken's Rust regex): the reference for the hand-written split. */
const PIECE =
  /'(?:[sdmtSDMT]|[rR][eE]|[vV][eE]|[lL][lL])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\p{White_Space}\p{L}\p{N}]+[\r\n]*|\p{White_Space}*[\r\n]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;
const regexEnds = (text: string) => [...text.matchAll(PIECE)].map((m) => m.index + m[0].length);
const scannedEnds = (text: string) => Array.from(pieceIndex(text).ends);

describe('countTokens equals a whole-text cl100k encode', () => {
  it.each([
    ['empty', ''],
    ['english', "Hello world, it's a test. They'll say I'VE won!"],
    ['whitespace runs', 'a   b\n\n\n  c \t\td   \n'],
    ['numbers', '1234567 and 3.14159 and 12,000'],
    ['chinese', '柏林是德意志联邦共和国首都，也是德国最大的城市。'],
    ['russian', 'Мамонты — вымерший род млекопитающих.'],
    ['special-token text counts as plain text', 'before <|endoftext|> after'],
    ['unicode spaces', 'a\u00a0b\u3000c\u2028d\u0085e\ufeff f'],
    ['emoji and math', 'x² ≤ 10 🙂 \\frac{a}{b}'],
    ['a word longer than the memo limit', ' Capillaritätserscheinungen-dimethylheptatriacontane'],
    ['a long run of one symbol', '='.repeat(300) + ' ' + '-'.repeat(97)],
    ['a lone surrogate', 'ab\ud800cd \udfff'],
    ['astral digits and letters', '𝟎𝟏𝟐𝟑 𝐀𝐁𝐂 𝒜'],
    ['mixed scripts in one word', 'Берлинberlin柏林'],
    ['contractions in capitals', "WE'LL SEE, THEY'RE HERE, IT'S"],
    ['carriage returns', 'a\r\n\r\n  b\r c\n\n\n'],
  ])('%s', (_name, text) => {
    expect(countTokens(text)).toBe(exact(text));
  });

  it('agrees with tiktoken on seeded random strings over a tricky alphabet', () => {
    const alphabet = ['a', 'e', 'th', ' ', '  ', '\n', '\r\n', '.', ',', "'", "'s", '1', '234', 'é', 'ñ', 'ж', '柏', '。', '🙂',
      '\ud800', '\u00a0', '\u3000', '\t', '—', '²', 'ß', 'İ', 'ﬁ', '\u0085', '\ufeff', '𝟎', '\u0308', '<|endoftext|>'];
    for (const text of randomStrings('tokens-test', alphabet, 2000, 30)) expect(countTokens(text), JSON.stringify(text)).toBe(exact(text));
  });

  it('stays exact across the memo filling up and being cleared', () => {
    // More distinct short pieces than the memo holds (400,000): it is cleared part-way, then refilled.
    const rng = rngFor('tokens-memo');
    const letters = (i: number): string => String.fromCharCode(97 + (i % 26)) + (i >= 26 ? letters(Math.floor(i / 26) - 1) : '');
    const words = Array.from({ length: 450_000 }, (_, i) => ` ${letters(i)}${'xyzqk'[randomInt(rng, 5)]}`);
    const text = words.join('');
    expect(countTokens(text)).toBe(exact(text));
    const again = words.slice(0, 5000).reverse().join('');
    expect(countTokens(again)).toBe(exact(again));
  });

  it('gives prefix counts that end with the total and never decrease', () => {
    const text = 'One sentence here. Another one there. 第三句。';
    const prefix = tokenPrefix(text, [0, 19, 38, text.length]);
    expect(prefix[prefix.length - 1]).toBe(exact(text));
    expect(prefix[1]).toBe(exact('One sentence here.'));
    expect([...prefix].sort((a, b) => a - b)).toEqual(prefix);
  });
});

describe('countTokens with a limit', () => {
  const text = 'The river town grew around a stone bridge. Merchants carried salt, wool and copper. '.repeat(40);

  it('is exact at or below the limit and only reports "over" above it', () => {
    const total = exact(text);
    expect(countTokens(text, total)).toBe(total);
    expect(countTokens(text, total + 5)).toBe(total);
    const over = countTokens(text, 100);
    expect(over).toBeGreaterThan(100);
    expect(over).toBeLessThan(total);
  });
});

describe.skipIf(!HAVE_SHARED_DATA)(`countTokens on the shared dumps (${SHARED_DATA_MISSING})`, () => {
  it('matches the whole-text encode on every cleaned article', () => {
    let docs = 0;
    for (const { file } of targetDumps()) {
      for (const page of articles(file)) {
        const r = cleanWikitext(page.text);
        if (!r.ok) continue;
        docs++;
        expect(countTokens(r.text), page.title).toBe(exact(r.text));
      }
    }
    expect(docs).toBeGreaterThan(150);
  });
});

describe('the hand-written pre-tokenizer splits like the regex', () => {
  it('on seeded random strings over every character class and contraction', () => {
    const alphabet = ['a', 'B', 'é', 'ж', '柏', '𝐀', '1', '٣', '𝟎', '²', 'Ⅻ', ' ', '  ', '\t', '\n', '\r', '\u00a0', '\u3000',
      '\u2028', '\u0085', '\ufeff', '\u200b', '.', '!', "'", "'s", "'S", "'t", "'D", "'m", "'re", "'RE", "'Ve", "'ll", "'LL", "'lx", "'x", '🙂', '\ud800', '\udc00', '\u0308'];
    for (const text of randomStrings('pre-tokenizer-test', alphabet, 5000, 25)) expect(scannedEnds(text), JSON.stringify(text)).toEqual(regexEnds(text));
  });
});

describe('countRange equals counting the slice on its own', () => {
  const text = "Dr. Who's here.  Then 12345 ran\n\n  away!! 柏林。 It's      over \u00a0 now.\r\n\n\n\n   End'll !!!!.𝐀𝐁 x";

  it('for every range of a text with runs, digits, contractions and CJK', () => {
    const index = pieceIndex(text);
    for (let from = 0; from <= text.length; from++) {
      for (let to = from; to <= text.length; to++) {
        expect(countRange(index, from, to), `${from}..${to}`).toBe(exact(text.slice(from, to)));
      }
    }
  });

  it('ignores an index that countTokens left unfinished at a limit', () => {
    const long = text.repeat(20);
    expect(countTokens(long, 5)).toBeGreaterThan(5);
    const index = pieceIndex(long);
    expect(index.cum[index.size - 1]).toBe(exact(long));
    expect(countRange(index, 3, long.length - 7)).toBe(exact(long.slice(3, -7)));
  });
});

describe.skipIf(!HAVE_SHARED_DATA)(`the pre-tokenizer and countRange on the shared dumps (${SHARED_DATA_MISSING})`, () => {
  it('splits every raw page text like the regex', () => {
    let pages = 0;
    for (const { file } of targetDumps()) {
      for (const page of readPages(file)) {
        pages++;
        expect(scannedEnds(page.text), page.title).toEqual(regexEnds(page.text));
      }
    }
    expect(pages).toBeGreaterThan(250);
  });

  it('counts seeded random ranges of every cleaned article as the slice alone', () => {
    const rng = rngFor('count-range-test');
    let checks = 0;
    for (const { file } of targetDumps()) {
      for (const page of articles(file)) {
        const r = cleanWikitext(page.text);
        if (!r.ok || r.text.length === 0) continue;
        const index = pieceIndex(r.text);
        for (let i = 0; i < 10; i++) {
          const from = randomInt(rng, r.text.length);
          const to = i % 3 === 0 ? r.text.length : from + randomInt(rng, Math.min(3000, r.text.length - from) + 1);
          checks++;
          expect(countRange(index, from, to), `${page.title} ${from}..${to}`).toBe(countTokens(r.text.slice(from, to)));
        }
      }
    }
    expect(checks).toBeGreaterThan(1500);
  });
});

/** `count` seeded strings, each 1..maxParts parts drawn from `alphabet`. */
function* randomStrings(seed: string, alphabet: string[], count: number, maxParts: number): Generator<string> {
  const rng = rngFor(seed);
  for (let i = 0; i < count; i++) {
    let text = '';
    for (let n = 1 + randomInt(rng, maxParts); n > 0; n--) text += alphabet[randomInt(rng, alphabet.length)];
    yield text;
  }
}
