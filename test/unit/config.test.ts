/** The config schema: defaults from the paper, one message naming a bad field, language entries merged over defaults. */
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_LANGUAGES, readWorkerSecrets, resolveConfig } from '../../src/config';

describe('resolveConfig', () => {
  it('defaults to the five languages with Table 2 volumes and the paper thresholds', () => {
    const c = resolveConfig({});
    expect(Object.keys(c.languages)).toEqual(['en', 'zh', 'ru', 'fr', 'es']);
    expect(Object.fromEntries(Object.entries(c.languages).map(([l, e]) => [l, e.chatSpecific]))).toEqual({ en: 10_000, zh: 36_000, ru: 37_000, fr: 30_000, es: 34_000 });
    expect([c.knowledge.minDocTokens, c.knowledge.maxDocTokens, c.knowledge.minSegmentTokens, c.knowledge.maxSegmentTokens]).toEqual([1000, 10_000, 1000, 2000]);
    expect(c.agnostic.quotas).toEqual({ chat: 11_000, math: 32_000, code: 16_000 });
  });

  it('merges a partial language entry over the built-in one, keeping t2s and disambiguation templates', () => {
    const c = resolveConfig({ languages: { zh: { dump: '/d/zh.xml.bz2', chatSpecific: 5 } } });
    expect(Object.keys(c.languages)).toEqual(['zh']);
    expect(c.languages.zh).toMatchObject({ dump: '/d/zh.xml.bz2', chatSpecific: 5, scriptConversion: 't2s', fasttextLabel: 'zh' });
    expect(c.languages.zh!.disambiguationTemplates).toEqual(DEFAULT_LANGUAGES.zh!.disambiguationTemplates);
  });

  it('accepts a new language given as config only, and names the missing field otherwise', () => {
    expect(resolveConfig({ languages: { de: { fasttextLabel: 'de', chatSpecific: 3 } } }).languages.de!.scriptConversion).toBe('none');
    expect(() => resolveConfig({ languages: { de: { chatSpecific: 3 } } })).toThrow(/languages\.de\.fasttextLabel/);
  });

  it.each([
    [{ llm: { temperature: 7 } }, /'llm\.temperature'/],
    [{ languages: { zh: { chatSpecific: -1 } } }, /'languages\.zh\.chatSpecific'/],
    [{ storage: { kind: 's3' } }, /'storage\.bucket'/],
    [{ unknownField: 1 }, /unknownField|\(root\)/],
    [{ llm: { baseUrl: 'not a url' } }, /'llm\.baseUrl'/],
  ])('rejects %j with one message naming the field', (raw, message) => {
    expect(() => resolveConfig(raw)).toThrow(ConfigError);
    expect(() => resolveConfig(raw)).toThrow(message);
  });

  it('reads secrets from the environment only, by the configured variable name', () => {
    const c = resolveConfig({ llm: { apiKeyEnv: 'MY_KEY' } });
    expect(readWorkerSecrets(c, { MY_KEY: 'k1' }).llmApiKey).toBe('k1');
    expect(readWorkerSecrets(c, {}).llmApiKey).toBeUndefined();
    expect(JSON.stringify(c)).not.toContain('k1');
  });
});
