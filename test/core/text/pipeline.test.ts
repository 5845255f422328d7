import { beforeAll, describe, expect, it } from 'vitest';
import type { Funnel } from '../../../src/core/stats';
import { loadLangId, type LangId } from '../../../src/core/text/lang-id';
import {
  emptyKnowledgeFunnel,
  knowledgeOptionsSchema,
  prepareDocument,
  type KnowledgeOptions,
  type KnowledgeTools,
  type RawPage,
} from '../../../src/core/text/pipeline';
import { countTraditionalOnlyChars } from '../../../src/core/text/script';
import { countTokens } from '../../../src/core/text/tokens';
import { HAVE_SHARED_DATA, SHARED_DATA_MISSING } from '../../support/shared-data';
import { articles, targetDumps } from './dump-pages';

// Simplified → traditional, to plant a traditional-script article; loaded like script.ts does.
 
const OpenCC = require('opencc-js') as { Converter(o: { from: string; to: string }): (t: string) => string };
const toTraditional = OpenCC.Converter({ from: 'cn', to: 'tw' });

let tools: KnowledgeTools;
let langId: LangId;
beforeAll(async () => {
  langId = await loadLangId();
  tools = { langId, countTokens };
});

const options = (lang: string, extra: Partial<KnowledgeOptions> = {}): KnowledgeOptions =>
  knowledgeOptionsSchema.parse({ lang, fasttextLabel: lang, scriptConversion: lang === 'zh' ? 't2s' : 'none', ...extra });

const page = (text: string, pageId = 1): RawPage => ({ ns: 0, pageId, title: 'T', text });

/** Each step sees exactly what the previous one kept, and total = kept + dropped. */
function expectFunnelAddsUp(funnel: Funnel, pages: number): void {
  const order = ['clean', 'language', 'script', 'length', 'segment'];
  expect(funnel.clean.total).toBe(pages);
  order.forEach((step, i) => {
    const s = funnel[step];
    expect(s.total, step).toBe(s.kept + s.dropped);
    expect(Object.values(s.byReason).reduce((a, b) => a + b, 0), step).toBe(s.dropped);
    if (i > 0) expect(s.total, step).toBe(funnel[order[i - 1]].kept);
  });
}

const ENGLISH = 'The river flows north through the old valley and past the town. '.repeat(5);

describe('knowledgeOptionsSchema', () => {
  it('defaults to the paper thresholds', () => {
    expect(options('en')).toMatchObject({ minDocTokens: 1000, maxDocTokens: 10_000, minSegmentTokens: 1000, maxSegmentTokens: 2000 });
  });
});

describe('prepareDocument drop reasons', () => {
  it.each([
    ['clean', 'wiki_empty_text', page('{{Infobox}}[[Category:X]]'), options('en')],
    ['clean', 'wiki_parse_failure', page(ENGLISH), options('en', { parseTimeBudgetMs: 1e-9 })],
    ['language', 'text_wrong_language', page(ENGLISH), options('fr')],
    ['length', 'text_too_short', page(ENGLISH), options('en')],
    ['length', 'text_too_long', page(ENGLISH.repeat(20)), options('en', { maxDocTokens: 500, minDocTokens: 10 })],
  ])('%s: %s', (step, reason, raw, opts) => {
    const funnel = emptyKnowledgeFunnel();
    expect(prepareDocument(raw, opts, tools, funnel)).toEqual({ kept: false, step, reason });
    expect(funnel[step].byReason).toEqual({ [reason]: 1 });
    expectFunnelAddsUp(funnel, 1);
  });

  it('keeps a document and returns its segments with token totals in the funnel', () => {
    const funnel = emptyKnowledgeFunnel();
    const text = Array.from({ length: 80 }, (_, i) => `Sentence ${i} tells of the river and the valley.`).join(' ');
    const opts = options('en', { minDocTokens: 100, minSegmentTokens: 200, maxSegmentTokens: 400 });
    const out = prepareDocument({ ...page(text), pageId: 9, revisionId: 3, title: 'River' }, opts, tools, funnel);
    if (!out.kept) throw new Error(`dropped: ${out.reason}`);
    expect(out.doc).toMatchObject({ lang: 'en', pageId: 9, revisionId: 3, title: 'River', text, tokens: countTokens(text) });
    expect(out.segments.length).toBeGreaterThan(1);
    expect(out.segments.map((s) => s.text).join('')).toBe(text);
    expect(funnel.segment.tokens).toBe(out.segments.reduce((a, s) => a + s.tokens, 0));
    expectFunnelAddsUp(funnel, 1);
  });
});

describe.skipIf(!HAVE_SHARED_DATA)(`prepareDocument on the shared dumps (${SHARED_DATA_MISSING})`, () => {
  it('adds up the funnel on every dump and keeps long articles', () => {
    for (const { lang, file } of targetDumps()) {
      const funnel = emptyKnowledgeFunnel();
      const pages = articles(file);
      let kept = 0;
      for (const p of pages) if (prepareDocument(p, options(lang), tools, funnel).kept) kept++;
      expectFunnelAddsUp(funnel, pages.length);
      expect(funnel.segment.kept, file).toBe(kept);
    }
  });

  it('drops a planted foreign article with text_wrong_language', () => {
    const french = articles(targetDumps().find((d) => d.file.includes('dbpedia-minidump-frwiki'))!.file);
    const english = articles(targetDumps().find((d) => d.file.includes('dbpedia-minidump-enwiki'))!.file).slice(0, 5);
    const funnel = emptyKnowledgeFunnel();
    const planted = { ...french[0], pageId: 999_999 };
    const results = [...english, planted].map((p) => prepareDocument(p, options('en'), tools, funnel));
    expect(results.at(-1)).toEqual({ kept: false, step: 'language', reason: 'text_wrong_language' });
    expect(funnel.language.byReason).toEqual({ text_wrong_language: 1 });
  });

  it('converts a planted traditional-Chinese article to simplified', () => {
    const zh = articles(targetDumps().find((d) => d.file.includes('dbpedia-minidump-zhwiki'))!.file)[0];
    const planted = { ...zh, text: toTraditional(zh.text) };
    expect(countTraditionalOnlyChars(planted.text)).toBeGreaterThan(500);
    const out = prepareDocument(planted, options('zh', { maxDocTokens: 100_000 }), tools, emptyKnowledgeFunnel());
    if (!out.kept) throw new Error(`dropped: ${out.reason}`);
    expect(countTraditionalOnlyChars(out.doc.text)).toBe(0);
    for (const s of out.segments) expect(countTraditionalOnlyChars(s.text)).toBe(0);
  });
});
