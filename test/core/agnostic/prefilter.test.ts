import { describe, expect, it } from 'vitest';
import { subsetType } from '../../../src/core/agnostic/format';
import { prefilter, prefilterOptionsSchema } from '../../../src/core/agnostic/prefilter';
import type { AgnosticItem } from '../../../src/core/agnostic/readers';

const options = prefilterOptionsSchema.parse({ maxConversationTokens: 50, maxTurnTokens: 30 });
// One token per whitespace-separated word: enough to test the thresholds without tiktoken.
const countTokens = (t: string) => t.split(/\s+/).filter(Boolean).length;
const chat = (...turns: string[]): AgnosticItem => ({ sourceId: 's', subset: 'chat', turns });
const words = (n: number) => Array.from({ length: n }, () => 'word').join(' ');

describe('prefilter', () => {
  // A stand-in identifier: Cyrillic means Russian (the real fastText is exercised in translate.test.ts).
  const langId = { detect: (text: string) => (/[а-я]/i.test(text) ? { lang: 'ru', score: 0.95 } : { lang: 'en', score: 0.9 }) };
  const table: Array<[string, AgnosticItem, string | null]> = [
    ['a short answered question is kept', chat('How do I sort a list?', 'Use sorted().'), null],
    ['only a question', chat('Is anyone there?'), 'agnostic_no_answer'],
    ['an empty turn', chat('Hi', '  '), 'agnostic_no_answer'],
    ['an http URL', chat('Summarise https://example.com/post', 'It says…'), 'agnostic_has_url'],
    ['a www address', chat('Open www.example.org please', 'Done.'), 'agnostic_has_url'],
    ['a non-English question', chat('Как отсортировать список?', 'Use sorted().'), 'agnostic_not_english'],
    ['one turn too long to translate in one call', chat('Explain', words(31)), 'agnostic_too_long'],
    ['a conversation too long for the judge', chat(words(20), words(20), words(5), words(6)), 'agnostic_too_long'],
  ];
  it.each(table)('%s', (_name, item, reason) => {
    expect(prefilter(item, options, { countTokens, langId })).toEqual(reason === null ? { keep: true } : { keep: false, reason });
  });

  it('without a language identifier the language check is off', () => {
    expect(prefilter(chat('Как дела?', 'Fine.'), options, { countTokens })).toEqual({ keep: true });
  });

  it('defaults fit a 4K-token window', () => {
    expect(prefilterOptionsSchema.parse({})).toMatchObject({ maxConversationTokens: 3000, maxTurnTokens: 1500 });
  });
});

describe('subset naming', () => {
  it.each([
    ['chat', 'chat_agnostic'],
    ['math', 'math'],
    ['code', 'code'],
  ] as const)('%s is written as %s', (subset, type) => {
    expect(subsetType(subset)).toBe(type);
  });
});
