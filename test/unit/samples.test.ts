/**
 * The bundled demo sample (samples/) through the real readers and the knowledge stage, with the thresholds of
 * samples/demo.yaml: every page ends where the demo expects it, so `ultralink demo` has work for every step.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile, type Config } from '../../src/config';
import { prefilter } from '../../src/core/agnostic/prefilter';
import { readMagicoderOss, readMetaMath, readShareGpt, type ReadResult } from '../../src/core/agnostic/readers';
import type { Funnel } from '../../src/core/stats';
import { loadLangId, type LangId } from '../../src/core/text/lang-id';
import { emptyKnowledgeFunnel, prepareDocument, type KnowledgeOptions, type PreparedDocument } from '../../src/core/text/pipeline';
import { countTraditionalOnlyChars } from '../../src/core/text/script';
import { countTokens } from '../../src/core/text/tokens';
import { cleanWikitext } from '../../src/core/wiki/wikitext';
import { readSelectedPages, type PageEvent } from '../../src/io/dump-source';
import { REPO_ROOT } from '../support/shared-data';

const LANGS = ['en', 'zh', 'ru', 'fr', 'es'] as const;
const fromRoot = (p: string) => path.join(REPO_ROOT, p);

let config: Config;
let langId: LangId;

beforeAll(async () => {
  config = loadConfigFile(fromRoot('samples/demo.yaml'));
  langId = await loadLangId();
});

function optionsFor(lang: string): KnowledgeOptions {
  const entry = config.languages[lang];
  const { rangeGroups: _unused, ...knowledge } = config.knowledge;
  return { ...knowledge, lang, fasttextLabel: entry.fasttextLabel, scriptConversion: entry.scriptConversion };
}

async function selectedPages(lang: string): Promise<PageEvent[]> {
  const entry = config.languages[lang];
  const out: PageEvent[] = [];
  for await (const ev of readSelectedPages(fromRoot(entry.dump!), { lang, disambiguationTemplates: entry.disambiguationTemplates })) out.push(ev);
  return out;
}

async function readAll(file: string, reader: (chunks: AsyncIterable<string>) => AsyncGenerator<ReadResult>): Promise<ReadResult[]> {
  const out: ReadResult[] = [];
  for await (const r of reader(createReadStream(fromRoot(file), { encoding: 'utf8', highWaterMark: 4096 }))) out.push(r);
  return out;
}

describe('samples/demo.yaml', () => {
  it('names the five languages with a bundled dump each, t2s for zh, the lowered thresholds and the small budget', () => {
    expect(Object.keys(config.languages).sort()).toEqual([...LANGS].sort());
    for (const lang of LANGS) expect(config.languages[lang].dump).toBe(`samples/wiki/${lang}wiki-sample.xml`);
    expect(config.languages.zh.scriptConversion).toBe('t2s');
    expect(config.knowledge).toMatchObject({ minDocTokens: 200, maxDocTokens: 3000, minSegmentTokens: 120, maxSegmentTokens: 300 });
    expect(config.agnostic.quotas).toEqual({ chat: 1, math: 1, code: 1 });
    expect(config.agnostic.translateRetries).toBe(1);
    expect(config.control.maxDrawFactor).toBe(8);
  });
});

describe.each(LANGS)('samples/wiki/%swiki-sample.xml', (lang) => {
  let events: PageEvent[];
  let prepared: Array<{ title: string; result: PreparedDocument }>;
  let funnel: Funnel;

  beforeAll(async () => {
    events = await selectedPages(lang);
    funnel = emptyKnowledgeFunnel();
    prepared = events.flatMap((ev) =>
      ev.kind === 'page' ? [{ title: ev.page.title, result: prepareDocument(ev.page, optionsFor(lang), { langId, countTokens }, funnel) }] : [],
    );
  });

  it('drops one redirect, one disambiguation page and one non-main page at selection', () => {
    const drops = events.flatMap((ev) => (ev.kind === 'drop' ? [ev.reason] : [])).sort();
    expect(drops).toEqual(['wiki_disambiguation', 'wiki_non_main', 'wiki_redirect']);
  });

  it('keeps exactly three articles and drops the stub as too short', () => {
    const kept = prepared.filter((p) => p.result.kept);
    const dropped = prepared.flatMap((p) => (p.result.kept ? [] : [{ step: p.result.step, reason: p.result.reason }]));
    expect(kept).toHaveLength(3);
    expect(dropped).toEqual([{ step: 'length', reason: 'text_too_short' }]);
  });

  it('splits every kept article into several segments within the demo bounds', () => {
    const { minSegmentTokens, maxSegmentTokens } = config.knowledge;
    for (const { result } of prepared) {
      if (!result.kept) continue;
      expect(result.doc.tokens).toBeLessThanOrEqual(config.knowledge.maxDocTokens);
      expect(result.segments.length).toBeGreaterThanOrEqual(2);
      expect(result.segments.map((s) => s.text).join('')).toBe(result.doc.text);
      for (const s of result.segments) {
        expect(s.tokens).toBeGreaterThanOrEqual(minSegmentTokens);
        expect(s.tokens).toBeLessThanOrEqual(maxSegmentTokens);
      }
    }
  });

  it('counts every page in each funnel step (total = kept + dropped)', () => {
    expect(funnel.clean.total).toBe(4);
    expect(funnel.length).toMatchObject({ total: 4, kept: 3, dropped: 1 });
    for (const stats of Object.values(funnel)) expect(stats.total).toBe(stats.kept + stats.dropped);
  });
});

describe('samples/wiki/zhwiki-sample.xml script', () => {
  it('has a traditional-script article for t2s, and no traditional-only characters after the stage', async () => {
    const events = await selectedPages('zh');
    const funnel = emptyKnowledgeFunnel();
    let traditionalBefore = 0;
    let traditionalAfter = 0;
    for (const ev of events) {
      if (ev.kind !== 'page') continue;
      const cleaned = cleanWikitext(ev.page.text);
      if (cleaned.ok) traditionalBefore += countTraditionalOnlyChars(cleaned.text);
      const result = prepareDocument(ev.page, optionsFor('zh'), { langId, countTokens }, funnel);
      if (result.kept) traditionalAfter += countTraditionalOnlyChars(result.doc.text) + result.segments.reduce((n, s) => n + countTraditionalOnlyChars(s.text), 0);
    }
    expect(traditionalBefore).toBeGreaterThan(100);
    expect(traditionalAfter).toBe(0);
  });

  it('resolves the -{zh-hans:…;zh-hant:…}- conversion markup to its simplified variant', async () => {
    const page = (await selectedPages('zh')).find((ev) => ev.kind === 'page' && ev.page.text.includes('-{zh-hans:'));
    expect(page?.kind).toBe('page');
    if (page?.kind !== 'page') return;
    const result = prepareDocument(page.page, optionsFor('zh'), { langId, countTokens }, emptyKnowledgeFunnel());
    expect(result.kept && result.doc.text).toContain('在中国大陆');
    expect(result.kept && result.doc.text).not.toContain('-{');
  });
});

describe('samples/sft', () => {
  it('sharegpt-sample.json: 15 conversations, one record without `conversations`', async () => {
    const results = await readAll('samples/sft/sharegpt-sample.json', readShareGpt);
    expect(results.filter((r) => r.kind === 'record')).toHaveLength(15);
    expect(results.flatMap((r) => (r.kind === 'malformed' ? [r.reason] : []))).toEqual(['agnostic_malformed_missing_field']);
  });

  it('sharegpt-sample.json: the pre-filter drops only the conversation with a URL', async () => {
    const results = await readAll('samples/sft/sharegpt-sample.json', readShareGpt);
    const verdicts = results.flatMap((r) => (r.kind === 'record' ? [prefilter(r.record, config.agnostic.prefilter, { countTokens, langId })] : []));
    expect(verdicts.filter((v) => v.keep)).toHaveLength(14);
    expect(verdicts.flatMap((v) => (v.keep ? [] : [v.reason]))).toEqual(['agnostic_has_url']);
  });

  it('metamath-sample.json: 12 problems whose responses end with "The answer is: …"', async () => {
    const results = await readAll('samples/sft/metamath-sample.json', readMetaMath);
    expect(results.every((r) => r.kind === 'record')).toBe(true);
    expect(results).toHaveLength(12);
    for (const r of results) if (r.kind === 'record') expect(r.record.turns[1]).toMatch(/\nThe answer is: \S+$/);
  });

  it('magicoder-oss-sample.jsonl: 8 problems in python, typescript and rust with fenced solutions', async () => {
    const results = await readAll('samples/sft/magicoder-oss-sample.jsonl', readMagicoderOss);
    expect(results.every((r) => r.kind === 'record')).toBe(true);
    expect(results).toHaveLength(8);
    const langs = new Set(results.map((r) => (r.kind === 'record' ? r.record.meta?.lang : undefined)));
    expect([...langs].sort()).toEqual(['python', 'rust', 'typescript']);
    for (const r of results) if (r.kind === 'record') expect(r.record.turns[1]).toMatch(/^```(python|typescript|rust)\n/);
  });

  it('every SFT question is detected as English', async () => {
    const files = [
      ['samples/sft/sharegpt-sample.json', readShareGpt],
      ['samples/sft/metamath-sample.json', readMetaMath],
      ['samples/sft/magicoder-oss-sample.jsonl', readMagicoderOss],
    ] as const;
    for (const [file, reader] of files) {
      for (const r of await readAll(file, reader)) {
        if (r.kind === 'record') expect(langId.detect(r.record.turns[0]).lang, `${file} #${r.index}`).toBe('en');
      }
    }
  });
});
