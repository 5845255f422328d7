import { describe, expect, it } from 'vitest';
import { cleanWikitext } from '../../../src/core/wiki/wikitext';
import { HAVE_SHARED_DATA, SHARED_DATA_MISSING } from '../../support/shared-data';
import { articles, targetDumps } from '../text/dump-pages';

function textOf(wikitext: string): string {
  const r = cleanWikitext(wikitext);
  if (!r.ok) throw new Error(`unexpected ${r.reason}`);
  return r.text;
}

describe('cleanWikitext keeps prose', () => {
  it.each([
    ['bold and italic', "'''Berlin''' is the ''capital''.", 'Berlin is the capital.'],
    ['piped and plain links', '[[Germany|German]] city on the [[Spree]]s.', 'German city on the Sprees.'],
    ['external link label', 'See [https://example.org the site] and [https://x.org].', 'See the site and.'],
    ['headings as their own lines', 'Intro text.\n== History ==\nOld text.', 'Intro text.\nHistory\nOld text.'],
    ['list items as text', 'Items:\n* first item\n# second item\n; term : definition', 'Items:\nfirst item\nsecond item\nterm : definition'],
    ['math as its source', 'Area is <math>\\pi r^2</math> here.', 'Area is \\pi r^2 here.'],
    ['math braces never read as templates', '<math>{{a}\\over{b}}</math>', '{ {a}\\over{b} }'],
    ['inline lang template', 'Named {{lang|de|Friedrichstadt}} then.', 'Named Friedrichstadt then.'],
    ['inline math template', 'Let {{math|x + 1}} be.', 'Let x + 1 be.'],
    ['convert template', 'It is {{convert|10|km|mi}} long.', 'It is 10 km long.'],
    ['entities', 'A&nbsp;&ndash;&#32;B &amp; C', 'A – B & C'],
    ['zh variant: simplified preferred', '德国-{zh-hans:联邦州; zh-hant:邦}-之一', '德国联邦州之一'],
    ['zh variant: plain guarded text', '称为-{巴黎}-。', '称为巴黎。'],
    ['zh variant: hidden rule dropped', '-{H|zh-cn:软件;zh-tw:軟體}-软件很好。', '软件很好。'],
    ['empty section heading dropped', 'Text.\n== Gallery ==\n{| class="wikitable"\n|a\n|}\n== Next ==\nMore.', 'Text.\nNext\nMore.'],
  ])('%s', (_name, input, expected) => {
    expect(textOf(input)).toBe(expected);
  });
});

describe('cleanWikitext drops markup', () => {
  it.each([
    ['templates and infoboxes', '{{Infobox city\n| name = Berlin\n| pop = {{formatnum:3400000}}\n}}Berlin is big.', 'Berlin is big.'],
    ['template parameters', 'A{{{1|default}}}B', 'AB'],
    ['references', 'Fact.<ref name="a">{{cite web|url=x}}</ref> Next.<ref name="a"/>', 'Fact. Next.'],
    ['tables', 'Before.\n{| class="wikitable"\n|-\n! H\n|-\n| cell {{x}}\n|}\nAfter.', 'Before.\nAfter.'],
    ['nested tables', 'A.\n{|\n|\n{|\n| inner\n|}\n| outer\n|}\nB.', 'A.\nB.'],
    ['files with linked captions', '[[File:Map.png|thumb|A [[map]] of [[Berlin|the city]]]]Text.', 'Text.'],
    ['localized file namespaces', '[[Файл:Карта.png|мини]][[文件:地图.png|缩略图]]Текст.', 'Текст.'],
    ['categories', 'Text.\n[[Category:Cities]]\n[[Catégorie:Villes]]', 'Text.'],
    ['interlanguage links', 'Text.\n[[de:Berlin]]\n[[zh-min-nan:Berlin]]', 'Text.'],
    ['HTML comments', 'A<!-- hidden {{x}} -->B<!-- unterminated', 'AB'],
    ['reference sections', 'Body.\n== See also ==\n* [[Other]]\n== References ==\n{{reflist}}', 'Body.'],
    ['empty parentheses left by templates', 'Berlin ({{IPA|bɛʁˈliːn}}) is.', 'Berlin is.'],
    ['magic words and unmatched brackets', '__NOTOC__Text }} and ]] here.', 'Text and here.'],
  ])('%s', (_name, input, expected) => {
    expect(textOf(input)).toBe(expected);
  });
});

describe('cleanWikitext failure reasons', () => {
  it.each([
    ['wiki_empty_text', '{{Infobox}}\n[[Category:X]]', {}],
    ['wiki_parse_failure', "'''A''' {{x}} [[y]] text.", { timeBudgetMs: -1 }],
  ])('%s', (reason, input, opts) => {
    expect(cleanWikitext(input, opts)).toEqual({ ok: false, reason });
  });
});

describe.skipIf(!HAVE_SHARED_DATA)(`cleanWikitext on the shared dumps (${SHARED_DATA_MISSING})`, () => {
  it('leaves markup ({{ }} [[ {| <ref) on at most 2% of pages', () => {
    let pages = 0;
    let withLeftover = 0;
    for (const { file } of targetDumps()) {
      for (const page of articles(file)) {
        const r = cleanWikitext(page.text);
        if (!r.ok) continue;
        pages++;
        if (/\{\{|\}\}|\[\[|\{\||<ref/.test(r.text)) withLeftover++;
      }
    }
    expect(pages).toBeGreaterThan(150);
    expect(withLeftover / pages).toBeLessThanOrEqual(0.02);
  });

  it('keeps headings and CJK sentence punctuation on zh pages', () => {
    const { file } = targetDumps().find((d) => d.file.includes('dbpedia-minidump-zhwiki'))!;
    const r = cleanWikitext(articles(file)[0].text);
    expect(r.ok && r.text.split('\n')).toContain('历史');
    expect(r.ok && r.text).toContain('现有居民约340万人。柏林位于德国东北部');
    expect(r.ok && r.text).not.toContain('-{');
  });
});
