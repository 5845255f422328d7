import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseDialoguePack, type DialoguePack } from '../../../src/core/dialogue/prompt-pack';
import { loadLangId, type LangId } from '../../../src/core/text/lang-id';
import { loadDialoguePack, packPath } from '../../../src/prompts/load';

const LANGS = ['en', 'zh', 'ru', 'fr', 'es'] as const;
const PARTS = ['initialQuestion', 'initialAnswer', 'inDepthQuestion', 'expansiveQuestion', 'followupAnswer'] as const;

/** The pack's prose, with the framing's slots and separators taken out (they are language-neutral). */
function proseOf(pack: DialoguePack): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of PARTS) {
    out.push([`${part}.system`, pack[part].system], [`${part}.principles`, pack[part].principles]);
  }
  out.push(['firstTurnFraming', pack.firstTurnFraming.replace(/\{(document|question)\}|<\/?document>/g, ' ')]);
  return out;
}

describe('dialogue prompt packs', () => {
  let langId: LangId;
  beforeAll(async () => {
    langId = await loadLangId();
  });

  it.each(LANGS)('%s: loads with every part, its own version and language', (lang) => {
    const pack = loadDialoguePack(lang);
    expect(pack.language).toBe(lang);
    expect(pack.version).toMatch(new RegExp(`^${lang}-dialogue-\\d+$`));
    for (const part of PARTS) {
      expect(pack[part].system.length).toBeGreaterThan(100);
      // Figure 5 has 4 principles, Figures 6-8 have 5, 5 and 6: each numbered on its own line.
      expect(pack[part].principles.match(/^\d\. /gm)?.length).toBeGreaterThanOrEqual(4);
    }
    expect(pack.inDepthQuestion.principles.match(/^\d\. /gm)).toHaveLength(6);
    expect(pack.firstTurnFraming).toContain('<document>\n{document}\n</document>');
    expect(pack.firstTurnFraming.trimEnd().endsWith('{question}')).toBe(true);
  });

  it.each(LANGS)('%s: every prose part is in the pack language (fastText lid.176)', (lang) => {
    const pack = loadDialoguePack(lang);
    for (const [name, text] of proseOf(pack)) {
      const detected = langId.detect(text);
      expect({ name, lang: detected.lang }).toEqual({ name, lang });
      expect(detected.score, name).toBeGreaterThan(0.5);
    }
    const labels = `${pack.labels.history} ${pack.labels.user} ${pack.labels.assistant} ${proseOf(pack).map(([, t]) => t).join(' ')}`;
    expect(langId.detect(labels).lang).toBe(lang);
  });

  it('gives every pack a distinct version and distinct prose', () => {
    const packs = LANGS.map((lang) => loadDialoguePack(lang));
    expect(new Set(packs.map((p) => p.version)).size).toBe(LANGS.length);
    expect(new Set(packs.map((p) => p.initialQuestion.principles)).size).toBe(LANGS.length);
  });

  describe('parseDialoguePack rejects a pack and names the part', () => {
    const good = (): Record<string, any> => JSON.parse(JSON.stringify(loadDialoguePack('en')));
    const cases: Array<[string, (p: Record<string, any>) => void, string]> = [
      ['missing in-depth principles', (p) => delete p.inDepthQuestion.principles, 'inDepthQuestion.principles'],
      ['missing expansive part', (p) => delete p.expansiveQuestion, 'expansiveQuestion'],
      ['blank follow-up answer system', (p) => (p.followupAnswer.system = '   '), 'followupAnswer.system'],
      ['missing assistant label', (p) => delete p.labels.assistant, 'labels.assistant'],
      ['missing version', (p) => delete p.version, 'version'],
      ['framing without {question}', (p) => (p.firstTurnFraming = '<document>{document}</document>'), 'firstTurnFraming'],
      ['framing with {document} twice', (p) => (p.firstTurnFraming = '{document} {document} {question}'), 'firstTurnFraming'],
    ];
    it.each(cases)('%s', (_name, mutate, part) => {
      const pack = good();
      mutate(pack);
      expect(() => parseDialoguePack(stringify(pack))).toThrow(`part '${part}'`);
    });

    it('accepts the unmodified pack', () => {
      expect(parseDialoguePack(stringify(good())).version).toBe('en-dialogue-1');
    });

    it('reports invalid YAML and a non-object document', () => {
      expect(() => parseDialoguePack('version: [unclosed')).toThrow(/invalid YAML/);
      expect(() => parseDialoguePack('just a string')).toThrow(/dialogue pack/);
    });
  });

  it('refuses unknown languages and names that could leave the prompts folder', () => {
    expect(() => loadDialoguePack('xx')).toThrow(/xx\.dialogue\.yaml: cannot read/);
    expect(() => packPath('../etc', 'dialogue')).toThrow(/invalid language/);
    expect(() => packPath('en', 'dialogue/../../x')).toThrow(/invalid language/);
  });
});
