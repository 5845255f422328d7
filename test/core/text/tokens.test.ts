import { describe, expect, it } from 'vitest';
import { cl100k, countTokens, tokenPrefix } from '../../../src/core/text/tokens';
import { cleanWikitext } from '../../../src/core/wiki/wikitext';
import { HAVE_SHARED_DATA, SHARED_DATA_MISSING } from '../../support/shared-data';
import { articles, targetDumps } from './dump-pages';

const exact = (text: string) => cl100k().encode_ordinary(text).length;

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
  ])('%s', (_name, text) => {
    expect(countTokens(text)).toBe(exact(text));
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
