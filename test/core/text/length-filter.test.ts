import { describe, expect, it } from 'vitest';
import { filterByLength } from '../../../src/core/text/length-filter';
import type { Doc } from '../../../src/core/records';

const doc = (tokens: number): Doc => ({ lang: 'en', pageId: 1, title: 'T', text: 'x', tokens });

describe('filterByLength', () => {
  it.each([
    [999, { keep: false, reason: 'text_too_short' }],
    [1000, { keep: true }],
    [10_000, { keep: true }],
    [10_001, { keep: false, reason: 'text_too_long' }],
  ])('%i tokens with the paper defaults', (tokens, verdict) => {
    expect(filterByLength(doc(tokens))).toEqual(verdict);
  });

  it('counts the text when the doc carries no count', () => {
    const text = Array(30).fill('word').join(' '); // 'word' + 29 × ' word' = 30 tokens
    expect(filterByLength({ lang: 'en', pageId: 1, title: 'T', text }, { minTokens: 31 })).toEqual({ keep: false, reason: 'text_too_short' });
    expect(filterByLength({ lang: 'en', pageId: 1, title: 'T', text }, { minTokens: 30, maxTokens: 30 })).toEqual({ keep: true });
  });
});
