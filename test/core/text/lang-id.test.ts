import { beforeAll, describe, expect, it } from 'vitest';
import { filterByLanguage, loadLangId, type LangId } from '../../../src/core/text/lang-id';

let langId: LangId;
beforeAll(async () => {
  langId = await loadLangId();
});

const SAMPLES: Record<string, string> = {
  en: 'Berlin is the capital and largest city of Germany, both by area and by population.',
  zh: '柏林是德意志联邦共和国首都，也是德国最大的城市，现有居民约340万人。',
  ru: 'Берлин — столица и крупнейший город Германии, как по площади, так и по населению.',
  fr: "Berlin est la capitale et la plus grande ville d'Allemagne, par sa superficie et sa population.",
  es: 'Berlín es la capital de Alemania y la ciudad más poblada de la Unión Europea.',
};

describe('loadLangId', () => {
  it.each(Object.entries(SAMPLES))('labels %s text with its lid.176 code', (lang, text) => {
    const result = langId.detect(text);
    expect(result.lang).toBe(lang);
    expect(result.score).toBeGreaterThan(0.5);
    expect(result.score).toBeLessThanOrEqual(1);
  });

  it('reads the whole text, not only its first line', () => {
    const text = `Berlin\n${SAMPLES.fr}\n${SAMPLES.fr}`;
    expect(langId.detect(text).lang).toBe('fr');
  });
});

describe('filterByLanguage', () => {
  const doc = (text: string) => ({ lang: 'zh', pageId: 1, title: 'T', text });
  it.each([
    ['expected language', SAMPLES.zh, 'zh', 0.5, { keep: true }],
    ['another language', SAMPLES.en, 'zh', 0.5, { keep: false, reason: 'text_wrong_language' }],
    ['score below minScore', SAMPLES.zh, 'zh', 1.01, { keep: false, reason: 'text_wrong_language' }],
  ])('%s', (_name, text, lang, minScore, verdict) => {
    expect(filterByLanguage(doc(text), { lang, langId, minScore })).toEqual(verdict);
  });
});
