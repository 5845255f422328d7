import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  INVALID_UTF8_MARK,
  decodeEntities,
  isPageError,
  parsePages,
  type PageItem,
  type XmlChunk,
} from '../../../src/core/wiki/xml-pages';

const fixture = (name: string) => readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'wiki', name), 'utf8');

async function* chunksOf(text: string, size: number): AsyncGenerator<XmlChunk> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function collect(chunks: AsyncIterable<XmlChunk>, partial = false): Promise<PageItem[]> {
  const out: PageItem[] = [];
  for await (const item of parsePages(chunks, { partial })) out.push(item);
  return out;
}

describe('parsePages', () => {
  it('reads a full export with siteinfo: fields, entities, redirect, namespaces, empty text, a broken page', async () => {
    const items = await collect(chunksOf(fixture('full.xml'), 1 << 20));
    expect(items).toEqual([
      {
        ns: 0,
        pageId: 1,
        revisionId: 101,
        title: 'Alpha & Omega',
        redirect: false,
        text: `'''Alpha''' <ref>x</ref> is a letter \u2014 see \u263A and "q".`,
      },
      { ns: 0, pageId: 2, revisionId: 102, title: 'Beta', redirect: true, text: '#REDIRECT [[Alpha & Omega]]' },
      { ns: 1, pageId: 3, revisionId: 103, title: 'Talk:Gamma', redirect: false, text: 'talk page' },
      { ns: 0, pageId: 4, revisionId: 104, title: 'Deleted', redirect: false, text: '' },
      { error: 'wiki_parse_error', pageId: 5 },
      { ns: 0, pageId: 6, revisionId: 106, title: 'Replacement char', redirect: false, text: 'A source that really contains \uFFFD (U+FFFD) is fine.' },
    ]);
  });

  it.each([1, 3, 7, 64, 1000])('gives the same items whatever the chunk size (%i chars)', async (size) => {
    const whole = await collect(chunksOf(fixture('full.xml'), 1 << 20));
    expect(await collect(chunksOf(fixture('full.xml'), size))).toEqual(whole);
  });

  it('reads bare <page> fragments with no root, and reports no truncation for them', async () => {
    const items = await collect(chunksOf(fixture('fragment.xml'), 50));
    expect(items.map((i) => (isPageError(i) ? i.error : i.title))).toEqual(['Fragment one', 'Fragment two']);
  });

  it('reads the export-0.3 schema (no <ns>): namespace from the title prefix via siteinfo', async () => {
    const items = await collect(chunksOf(fixture('export-0.3.xml'), 100));
    expect(items.map((i) => (isPageError(i) ? i : [i.title, i.ns, i.redirect]))).toEqual([
      ['Algèbre', 0, false],
      ['Modèle:Homonymie', 10, false],
      ['Amenophis IV', 0, true],
    ]);
  });

  it('reads re-indented XML', async () => {
    const items = await collect(chunksOf(fixture('reindented.xml'), 13));
    expect(items.map((i) => (isPageError(i) ? i : [i.pageId, i.revisionId, i.text]))).toEqual([
      [31, 131, 'flat text'],
      [32, 132, 'deep text'],
    ]);
  });

  it('reads a <mediawiki> root without <siteinfo>', async () => {
    const xml = fixture('reindented.xml').replace('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10">', '<mediawiki>');
    expect((await collect(chunksOf(xml, 10))).filter((i) => !isPageError(i))).toHaveLength(2);
  });

  it('yields the complete pages of a truncated file, then one dump_truncated with the cut page id', async () => {
    const items = await collect(chunksOf(fixture('truncated.xml'), 17));
    expect(items.map((i) => (isPageError(i) ? i : i.title))).toEqual(['Whole', { error: 'dump_truncated', pageId: 42 }]);
  });

  it('reports an unclosed root as dump_truncated, except for a partial (multistream range) input', async () => {
    const xml = fixture('reindented.xml').replace('</mediawiki>', '');
    expect((await collect(chunksOf(xml, 40))).filter(isPageError)).toEqual([{ error: 'dump_truncated' }]);
    expect((await collect(chunksOf(xml, 40), true)).filter(isPageError)).toEqual([]);
  });

  it('on a break: counts the damage, cuts the page in progress, skips the tail fragment, goes on', async () => {
    const text = fixture('full.xml');
    const cutAt = text.indexOf('is a letter');
    const resumeAt = text.indexOf('<title>Beta') + 3; // resume in the middle of page 2
    async function* damaged(): AsyncGenerator<XmlChunk> {
      yield text.slice(0, cutAt);
      yield { break: true, reason: 'dump_corrupt_block' };
      yield text.slice(resumeAt);
    }
    const items = await collect(damaged());
    expect(items.slice(0, 2)).toEqual([{ error: 'dump_corrupt_block' }, { error: 'wiki_parse_error', pageId: 1, cut: true }]);
    expect(items.slice(2).map((i) => (isPageError(i) ? i.pageId : i.pageId))).toEqual([3, 4, 5, 6]);
  });

  it('treats a <page> opening inside another page as the end of a broken page (damage with no break)', async () => {
    const text = fixture('fragment.xml');
    const broken = text.replace('first</text>\n    </revision>\n  </page>', 'fir');
    const items = await collect(chunksOf(broken, 30));
    expect(items.map((i) => (isPageError(i) ? i : i.title))).toEqual([{ error: 'wiki_parse_error', pageId: 11 }, 'Fragment two']);
  });

  it('keeps the invalid-UTF-8 mark in text so selection can drop the page', async () => {
    const xml = fixture('fragment.xml').replace('second', `sec${INVALID_UTF8_MARK}ond`);
    const items = await collect(chunksOf(xml, 30));
    expect(items.filter((i) => !isPageError(i) && i.text.includes(INVALID_UTF8_MARK))).toHaveLength(1);
  });
});

describe('decodeEntities', () => {
  it.each([
    ['a &lt;b&gt; &amp;amp; &quot;c&quot; &apos;d&apos;', `a <b> &amp; "c" 'd'`],
    ['&#233;&#xE9;&#x1F600;', 'éé\u{1F600}'],
    ['no entities', 'no entities'],
    ['&unknown; stays', '&unknown; stays'],
  ])('%s', (input, expected) => {
    expect(decodeEntities(input)).toBe(expected);
  });
});
