import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { mask } from '../../../src/core/agnostic/mask';
import {
  checkTranslation,
  parseTranslatePack,
  renderTranslateMessages,
  restoreTranslation,
  TRANSLATE_DROP_REASONS,
  translateInstructions,
  type TranslatePack,
} from '../../../src/core/agnostic/translate';
import { loadLangId, type LangId } from '../../../src/core/text/lang-id';
import type { FinishReason } from '../../../src/llm/types';

const LANGS = ['zh', 'ru', 'fr', 'es'] as const;
const packs = Object.fromEntries(
  LANGS.map((l) => [l, parseTranslatePack(readFileSync(path.resolve(__dirname, `../../../src/prompts/${l}.translate.yaml`), 'utf8'))]),
) as Record<(typeof LANGS)[number], TranslatePack>;

let langId: LangId;
beforeAll(async () => {
  langId = await loadLangId();
});

describe('translation packs', () => {
  it.each(LANGS)('%s pack validates, carries a version and renders the masked text and subset note', (lang) => {
    const pack = packs[lang];
    expect(pack.lang).toBe(lang);
    expect(pack.version).toBe(`${lang}.translate.v1`);
    expect(pack.principles.length).toBeGreaterThanOrEqual(6);
    expect(pack.principles.some((p) => p.includes('⟦P0⟧'))).toBe(true);
    const { masked } = mask('Use `sorted(x)` here, see [1].');
    const messages = renderTranslateMessages(pack, masked, { subset: 'math' });
    expect(messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(messages[0].content).toContain(pack.subsets.math.trim());
    expect(messages[1].content).toContain('Use ⟦P0⟧ here, see ⟦P1⟧.');
    expect(messages[1].content).not.toContain('{text}');
    const instructions = translateInstructions(pack, 'math');
    expect(instructions.startsWith(messages[0].content)).toBe(true);
    expect(instructions).toContain(pack.user_template.split('{text}')[0]!.trim());
    expect(instructions).not.toContain('⟦P0⟧ here');
  });

  it('rejects a pack without the {text} slot', () => {
    expect(() => parseTranslatePack(readFileSync(path.resolve(__dirname, '../../../src/prompts/fr.translate.yaml'), 'utf8').replace('{text}', ''))).toThrow();
  });
});

describe('restoreTranslation', () => {
  it('without a conversion the text is restored as written', () => {
    const { masked, slots } = mask('Call `f()` now.');
    expect(restoreTranslation(masked.replace('Call', '呼叫'), slots)).toEqual({ ok: true, text: '呼叫 `f()` now.' });
  });

  it('zh: converts traditional to simplified in prose only, code and URLs untouched, <text> wrapper removed', () => {
    const source = 'Read the file with `open("數據.txt")` and see https://例子.com/數學 for details.';
    const { masked, slots } = mask(source);
    const reply = `<text>\n${masked.replace('Read the file with', '用').replace('and see', '讀取文件，詳見').replace('for details.', '。')}\n</text>`;
    const restored = restoreTranslation(reply, slots, { scriptConversion: 't2s' });
    expect(restored).toEqual({ ok: true, text: '用 `open("數據.txt")` 读取文件，详见 https://例子.com/數學 。' });
  });
});

describe('checkTranslation (real fastText)', () => {
  const codeOnly = mask('```python\nfor i in range(10):\n    print(i * i)\n```\nOK');
  const frSource = mask('The function `area(r)` returns $\\pi r^2$, the area of a circle of radius r, as a float.');
  const frGood = 'La fonction ⟦P0⟧ renvoie ⟦P1⟧, l’aire d’un cercle de rayon r, sous forme de nombre à virgule flottante.';
  const table: Array<[string, { text: string; finishReason: FinishReason; slots: string[] }, string, string | null]> = [
    ['a faithful French translation is kept', { text: frGood, finishReason: 'stop', slots: frSource.slots }, 'fr', null],
    ['truncated at max tokens', { text: frGood, finishReason: 'length', slots: frSource.slots }, 'fr', 'translate_truncated'],
    ['empty reply', { text: '  \n', finishReason: 'stop', slots: frSource.slots }, 'fr', 'translate_empty'],
    ['empty <text> wrapper', { text: '<text>\n</text>', finishReason: 'stop', slots: frSource.slots }, 'fr', 'translate_empty'],
    ['placeholder lost', { text: frGood.replace('⟦P1⟧', 'πr²'), finishReason: 'stop', slots: frSource.slots }, 'fr', 'translate_placeholder_lost'],
    ['placeholder altered', { text: frGood.replace('⟦P0⟧', '[P0]'), finishReason: 'stop', slots: frSource.slots }, 'fr', 'translate_placeholder_altered'],
    ['placeholder duplicated', { text: `${frGood} ⟦P0⟧`, finishReason: 'stop', slots: frSource.slots }, 'fr', 'translate_placeholder_duplicated'],
    [
      'wrong language: left in English',
      { text: 'The function ⟦P0⟧ returns ⟦P1⟧, the area of a circle of radius r, as a floating point number.', finishReason: 'stop', slots: frSource.slots },
      'fr',
      'translate_wrong_language',
    ],
    [
      'wrong language: Spanish instead of French',
      { text: 'La función ⟦P0⟧ devuelve ⟦P1⟧, el área de un círculo de radio r, como un número de coma flotante.', finishReason: 'stop', slots: frSource.slots },
      'fr',
      'translate_wrong_language',
    ],
    ['Chinese kept for zh', { text: '函数 ⟦P0⟧ 以浮点数形式返回 ⟦P1⟧，即半径为 r 的圆的面积。', finishReason: 'stop', slots: frSource.slots }, 'zh', null],
    ['Russian kept for ru', { text: 'Функция ⟦P0⟧ возвращает ⟦P1⟧ — площадь круга радиуса r — в виде числа с плавающей точкой.', finishReason: 'stop', slots: frSource.slots }, 'ru', null],
    ['mostly code: language check skipped', { text: codeOnly.masked, finishReason: 'stop', slots: codeOnly.slots }, 'zh', null],
    ['fr: the pack system prompt instead of a translation', { text: packs.fr.system, finishReason: 'stop', slots: frSource.slots }, 'fr', 'translate_prompt_echo'],
    [
      'fr: some principles echoed in a <text> wrapper, with their sample markers (an echo, not a placeholder fault)',
      { text: `<text>\n${packs.fr.principles.slice(4).join('\n')}\n</text>`, finishReason: 'stop', slots: frSource.slots },
      'fr',
      'translate_prompt_echo',
    ],
    ['fr: the user template echoed with the translation after it', { text: `Traduisez en français le texte anglais placé entre <text> et </text> : ${frGood}`, finishReason: 'stop', slots: frSource.slots }, 'fr', null],
    ['zh: the subset note echoed', { text: packs.zh.subsets.math, finishReason: 'stop', slots: [] }, 'zh', 'translate_prompt_echo'],
    ['ru: the system prompt echoed', { text: packs.ru.system, finishReason: 'stop', slots: [] }, 'ru', 'translate_prompt_echo'],
  ];
  it.each(table)('%s', (_name, output, expectedLabel, reason) => {
    const instructions = translateInstructions(packs[expectedLabel as (typeof LANGS)[number]], 'math');
    const verdict = checkTranslation(output, { langId, expectedLabel, instructions });
    expect(verdict).toEqual(reason === null ? { keep: true } : { keep: false, reason });
  });

  it('names only reasons from TRANSLATE_DROP_REASONS', () => {
    for (const [, , , reason] of table) if (reason !== null) expect(TRANSLATE_DROP_REASONS).toContain(reason);
    for (const [, , reason] of copyTable) if (reason !== null) expect(TRANSLATE_DROP_REASONS).toContain(reason);
  });

  // A source long enough for the copy check (33 word 4-grams), and French for its first two sentences.
  const longSource = 'The old library in the city centre opens early on weekdays and closes late on Fridays. Many farmers in the valley grow apples and pears. Scientists believe the lake was formed by a glacier many thousands of years ago.';
  const frFirstTwo = 'La vieille bibliothèque du centre-ville ouvre tôt en semaine et ferme tard le vendredi. De nombreux agriculteurs de la vallée cultivent des pommes et des poires.';
  const frAll = `${frFirstTwo} Les scientifiques pensent que le lac a été formé par un glacier il y a plusieurs milliers d’années.`;
  const copyTable: Array<[string, string, string | null]> = [
    ['a whole translation is kept', frAll, null],
    ['a translation that keeps a four-word English title is kept', frAll.replace('un glacier', 'le glacier « Many Thousands Years Ago »'), null],
    ['the last sentence left in English (fastText still says French)', `${frFirstTwo} Scientists believe the lake was formed by a glacier many thousands of years ago.`, 'translate_copied_source'],
    ['a whole translation with the last source sentence after it', `${frAll} Scientists believe the lake was formed by a glacier many thousands of years ago.`, 'translate_copied_source'],
  ];
  it.each(copyTable)('copy check: %s', (_name, text, reason) => {
    const verdict = checkTranslation({ text, finishReason: 'stop', slots: [] }, { langId, expectedLabel: 'fr', source: longSource });
    expect(verdict).toEqual(reason === null ? { keep: true } : { keep: false, reason });
    // Without the source the check cannot run: only the other checks decide.
    expect(checkTranslation({ text, finishReason: 'stop', slots: [] }, { langId, expectedLabel: 'fr' })).toEqual({ keep: true });
  });

  it('copy check: a short source may be kept as it is (too few word 4-grams to judge)', () => {
    const source = 'See the Eiffel Tower Paris page.';
    expect(checkTranslation({ text: 'Voir la page sur la tour Eiffel à Paris, en France.', finishReason: 'stop', slots: [] }, { langId, expectedLabel: 'fr', source })).toEqual({ keep: true });
    const copied = `Voici : ${source} Voir la page, en France, sur la tour.`;
    expect(checkTranslation({ text: copied, finishReason: 'stop', slots: [] }, { langId, expectedLabel: 'fr', source })).toEqual({ keep: true });
    expect(checkTranslation({ text: copied, finishReason: 'stop', slots: [] }, { langId, expectedLabel: 'fr', source, minCopyShingles: 1, minProseLetters: 1 })).toEqual({ keep: false, reason: 'translate_copied_source' });
  });

  it('an echo of the principles passes every other check (their sample markers ⟦P0⟧, ⟦P1⟧ fit two slots)', () => {
    const echo = { text: packs.fr.principles.join('\n'), finishReason: 'stop' as const, slots: frSource.slots };
    expect(checkTranslation(echo, { langId, expectedLabel: 'fr' })).toEqual({ keep: true });
    expect(checkTranslation(echo, { langId, expectedLabel: 'fr', instructions: translateInstructions(packs.fr, 'chat') })).toEqual({ keep: false, reason: 'translate_prompt_echo' });
  });

  it('the language check really runs on prose (English answer for zh is caught when long enough)', () => {
    const { slots } = mask('See `x`.');
    const english = 'This answer was never translated and stays in plain English, which the check must catch. ⟦P0⟧';
    expect(checkTranslation({ text: english, finishReason: 'stop', slots }, { langId, expectedLabel: 'zh' })).toEqual({ keep: false, reason: 'translate_wrong_language' });
    expect(checkTranslation({ text: english, finishReason: 'stop', slots }, { langId, expectedLabel: 'zh', minProseLetters: 1000 })).toEqual({ keep: true });
  });
});
