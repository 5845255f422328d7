import { describe, expect, it } from 'vitest';
import { DISAMBIGUATION_TEMPLATES, isDisambiguation, selectPage } from '../../../src/core/wiki/page-selection';
import { INVALID_UTF8_MARK, type RawPage } from '../../../src/core/wiki/xml-pages';

const page = (over: Partial<RawPage>): RawPage => ({
  ns: 0,
  pageId: 1,
  revisionId: 2,
  title: 'T',
  redirect: false,
  text: "'''T''' is an article.",
  ...over,
});

describe('selectPage', () => {
  it.each<[string, string, Partial<RawPage>, string | undefined]>([
    ['a plain article', 'en', {}, undefined],
    ['a talk page', 'en', { ns: 1 }, 'wiki_non_main'],
    ['a template page', 'fr', { ns: 10, text: '{{homonymie}}' }, 'wiki_non_main'],
    ['a <redirect> page', 'en', { redirect: true }, 'wiki_redirect'],
    ['a #REDIRECT text without the element', 'en', { text: '  #REDIRECT [[X]]' }, 'wiki_redirect'],
    ['a localised redirect (ru)', 'ru', { text: '#перенаправление [[Литва]]' }, 'wiki_redirect'],
    ['a localised redirect (es)', 'es', { text: '#REDIRECCIÓN [[Berlín]]' }, 'wiki_redirect'],
    ['invalid UTF-8 in text', 'en', { text: `ab${INVALID_UTF8_MARK}cd` }, 'wiki_invalid_utf8'],
    ['invalid UTF-8 in title', 'en', { title: `T${INVALID_UTF8_MARK}` }, 'wiki_invalid_utf8'],
    ['a legitimate U+FFFD', 'en', { text: 'replacement \uFFFD char in source' }, undefined],
    ['empty text', 'en', { text: '' }, 'wiki_empty'],
    ['whitespace-only text', 'en', { text: ' \n\t ' }, 'wiki_empty'],
    ['en {{Disambiguation}}', 'en', { text: "'''Mercury''' may refer to:\n{{Disambiguation}}" }, 'wiki_disambiguation'],
    ['en {{dab|geo}} with a parameter', 'en', { text: 'x\n{{dab|geo}}' }, 'wiki_disambiguation'],
    ['en {{ disambig }} spaced', 'en', { text: 'x {{ disambig }}' }, 'wiki_disambiguation'],
    ['en {{Template:Hndis|Smith}}', 'en', { text: 'x {{Template:Hndis|Smith}}' }, 'wiki_disambiguation'],
    ['__DISAMBIG__ magic word', 'es', { text: 'x __DISAMBIG__' }, 'wiki_disambiguation'],
    ['zh {{消歧义}}', 'zh', { text: '数学可以指：\n{{消歧义}}' }, 'wiki_disambiguation'],
    ['zh {{消歧義}}', 'zh', { text: '{{消歧義}}' }, 'wiki_disambiguation'],
    ['ru {{неоднозначность}}', 'ru', { text: '{{Неоднозначность}}' }, 'wiki_disambiguation'],
    ['ru {{многозначность}}', 'ru', { text: '{{многозначность}}' }, 'wiki_disambiguation'],
    ['fr {{Homonymie}}', 'fr', { text: '{{Homonymie}}\n[[Catégorie:Homonymie]]' }, 'wiki_disambiguation'],
    ['es {{Desambiguación}}', 'es', { text: '{{Desambiguación}}' }, 'wiki_disambiguation'],
    ['es {{desambiguacion}} unaccented', 'es', { text: '{{desambiguacion}}' }, 'wiki_disambiguation'],
    ['a template that only contains the word', 'en', { text: '{{Disambiguation needed}} {{About|x}}' }, undefined],
    ['another language’s template is not used', 'en', { text: '{{homonymie}}' }, undefined],
  ])('%s → %s', (_name, lang, over, reason) => {
    const verdict = selectPage(page(over), { lang });
    expect(verdict).toEqual(reason === undefined ? { keep: true } : { keep: false, reason });
  });

  it('uses the configured template list instead of the default', () => {
    expect(selectPage(page({ text: '{{Begriffsklärung}}' }), { lang: 'de', disambiguationTemplates: ['Begriffsklärung'] })).toEqual({
      keep: false,
      reason: 'wiki_disambiguation',
    });
  });

  it('has a default template list for each of the five target languages', () => {
    for (const lang of ['en', 'zh', 'ru', 'fr', 'es']) expect(DISAMBIGUATION_TEMPLATES[lang].length).toBeGreaterThan(1);
  });

  it('isDisambiguation normalises underscores and case', () => {
    expect(isDisambiguation('{{Human_name_disambiguation}}', new Set(['human name disambiguation']))).toBe(true);
    expect(isDisambiguation('{{Infobox}}', new Set(['disambig']))).toBe(false);
  });
});
