import { describe, expect, it } from 'vitest';
import type { Doc, Segment } from '../../../src/core/records';
import { segmentDocument, sentenceBoundaries } from '../../../src/core/text/segment';
import { convertScript } from '../../../src/core/text/script';
import { countTokens } from '../../../src/core/text/tokens';
import { cleanWikitext } from '../../../src/core/wiki/wikitext';
import { HAVE_SHARED_DATA, SHARED_DATA_MISSING } from '../../support/shared-data';
import { articles, targetDumps } from './dump-pages';

const doc = (text: string, lang = 'en'): Doc => ({ lang, pageId: 42, title: 'T', text });

/** Numbered sentences, so no two are alike. */
function sentences(n: number, make: (i: number) => string): string {
  return Array.from({ length: n }, (_, i) => make(i)).join('');
}

/**
 * The rules in segment.ts: contiguous slices; more than max only for a single sentence; shorter than min
 * only when merging with either neighbour would pass max (or the doc is one segment).
 */
function expectRules(segments: Segment[], text: string, min: number, max: number): void {
  expect(segments.map((s) => s.text).join('')).toBe(text);
  segments.forEach((s, i) => {
    expect(s.index).toBe(i);
    expect(s.tokens).toBe(countTokens(s.text));
    if (s.tokens > max) expect(sentenceBoundaries(s.text), `segment ${i} over max holds one sentence`).toEqual([]);
    if (s.tokens < min && segments.length > 1) {
      const prev = segments[i - 1];
      const next = segments[i + 1];
      if (prev) expect(countTokens(prev.text + s.text)).toBeGreaterThan(max);
      if (next) expect(countTokens(s.text + next.text)).toBeGreaterThan(max);
    }
  });
}

describe('sentenceBoundaries', () => {
  it.each([
    ['latin full stop', 'One. Two.', ['Two.']],
    ['question and exclamation', 'Who? Me! Yes.', ['Me! Yes.', 'Yes.']],
    ['closing quote', 'He said "no." Then left.', ['Then left.']],
    ['lowercase after a period', 'It was ca. five years. Then more.', ['Then more.']],
    ['initials', 'J. R. R. Tolkien wrote. Books followed.', ['Books followed.']],
    ['title abbreviation', 'Dr. Smith came. He left.', ['He left.']],
    ['chinese without spaces', '柏林是首都。它很大！真的吗？是的。', ['它很大！真的吗？是的。', '真的吗？是的。', '是的。']],
    ['japanese', 'ベルリンは首都である。人口は多い。', ['人口は多い。']],
    ['line ends', 'Heading\nText here', ['Text here']],
    ['decimal numbers', 'Pi is 3.14 exactly. Yes.', ['Yes.']],
  ])('%s', (_name, text, tails) => {
    expect(sentenceBoundaries(text).map((b) => text.slice(b))).toEqual(tails);
  });
});

describe('segmentDocument', () => {
  it('keeps a document within max as one segment', () => {
    const text = sentences(20, (i) => `Sentence number ${i} is short. `);
    const segs = segmentDocument(doc(text), { minTokens: 100, maxTokens: 2000 });
    expect(segs).toHaveLength(1);
    expect(segs[0]).toMatchObject({ index: 0, lang: 'en', title: 'T', pageId: 42, text, tokens: countTokens(text) });
  });

  it.each([
    ['english', 'en', sentences(400, (i) => `The river number ${i} flows north through the old valley. `)],
    ['chinese without spaces', 'zh', sentences(400, (i) => `第${i}条河流向北流经古老的山谷，两岸有许多村庄。`)],
    ['russian with paragraphs', 'ru', sentences(300, (i) => `Река номер ${i} течёт на север.${i % 7 === 0 ? '\n' : ' '}`)],
  ])('cuts %s text into segments within [min, max] at sentence ends', (_name, lang, text) => {
    const segs = segmentDocument(doc(text, lang), { minTokens: 300, maxTokens: 600 });
    expect(segs.length).toBeGreaterThan(3);
    expectRules(segs, text, 300, 600);
    for (const s of segs) {
      expect(s.tokens).toBeGreaterThanOrEqual(300);
      expect(s.tokens).toBeLessThanOrEqual(600);
      expect(s.text).toMatch(/[.。]\s*$/);
    }
  });

  it('gives a sentence longer than max its own segment', () => {
    const long = `And${' then it went on'.repeat(200)} to the end. `;
    const text = `${sentences(60, (i) => `Short opening sentence ${i}. `)}${long}${sentences(60, (i) => `Closing sentence ${i}. `)}`;
    const segs = segmentDocument(doc(text), { minTokens: 100, maxTokens: 400 });
    expectRules(segs, text, 100, 400);
    expect(segs.some((s) => s.text === long)).toBe(true);
  });

  it('merges a short remainder into the previous segment when that stays within max', () => {
    // 7 sentences of ~10 tokens with max 60: greedy packing would leave a 1-sentence tail.
    const text = sentences(7, (i) => `Item ${i} is listed in the table here. `);
    const segs = segmentDocument(doc(text), { minTokens: 30, maxTokens: 60 });
    expectRules(segs, text, 30, 60);
    for (const s of segs) expect(s.tokens).toBeGreaterThanOrEqual(30);
  });

  it('keeps a short piece whose merge would pass max, rather than dropping it', () => {
    const long = `Word${' word'.repeat(120)} end. `;
    const text = `Tiny start. ${long}`;
    const segs = segmentDocument(doc(text), { minTokens: 50, maxTokens: 100 });
    expectRules(segs, text, 50, 100);
    expect(segs.map((s) => s.text)).toEqual(['Tiny start. ', long]);
  });

  it('derives stable ids from content, page and position', () => {
    const text = sentences(100, (i) => `Sentence ${i} here. `);
    const a = segmentDocument(doc(text), { minTokens: 100, maxTokens: 200 });
    const b = segmentDocument(doc(text), { minTokens: 100, maxTokens: 200 });
    expect(a.map((s) => s.id)).toEqual(b.map((s) => s.id));
    expect(new Set(a.map((s) => s.id)).size).toBe(a.length);
    const other = segmentDocument({ ...doc(text), pageId: 43 }, { minTokens: 100, maxTokens: 200 });
    expect(other[0].id).not.toBe(a[0].id);
  });
});

describe.skipIf(!HAVE_SHARED_DATA)(`segmentDocument on the shared dumps (${SHARED_DATA_MISSING})`, () => {
  it('loses no text and keeps every segment within the stated rules', () => {
    let docs = 0;
    for (const { lang, file } of targetDumps()) {
      for (const page of articles(file)) {
        const r = cleanWikitext(page.text);
        if (!r.ok) continue;
        const text = convertScript(r.text, lang === 'zh' ? 't2s' : 'none');
        const tokens = countTokens(text);
        if (tokens < 1000 || tokens > 10_000) continue;
        docs++;
        expectRules(segmentDocument({ lang, pageId: page.pageId, title: page.title, text }), text, 1000, 2000);
      }
    }
    expect(docs).toBeGreaterThan(60);
  });
});
