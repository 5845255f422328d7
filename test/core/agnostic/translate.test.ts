import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { mask } from '../../../src/core/agnostic/mask';
import {
  acceptTranslation,
  checkTranslation,
  extractTranslation,
  parseTranslatePack,
  renderTranslateMessages,
  restoreTranslation,
  TRANSLATE_DROP_REASONS,
  translateInstructions,
  translationAttempt,
  type TranslatePack,
} from '../../../src/core/agnostic/translate';
import { loadLangId, type LangId } from '../../../src/core/text/lang-id';
import type { FinishReason } from '../../../src/core/messages';

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
    // Under the echo threshold, but the instruction would be kept in the record with its <text> tags.
    ['fr: the user template echoed with the translation after it', { text: `Traduisez en français le texte anglais placé entre <text> et </text> : ${frGood}`, finishReason: 'stop', slots: frSource.slots }, 'fr', 'translate_wrapper_left'],
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

describe('translationAttempt and acceptTranslation (real fastText)', () => {
  const source = 'Call `parseVersion(text)` on the input and compare the result with `undefined` before you use it.';
  const reply = 'Appelez `parseVersion(text)` sur l’entrée et comparez le résultat avec `undefined` avant de l’utiliser.';
  const judge = (attempt: ReturnType<typeof translationAttempt>, text: string, finishReason: 'stop' | 'length' = 'stop') =>
    acceptTranslation({ text: attempt.asMasked(text), finishReason, slots: attempt.slots }, { langId, expectedLabel: 'fr', source: attempt.masked });

  it('attempt 0 sends placeholders; a retry sends the spans as they are and finds them in the reply', () => {
    const first = translationAttempt(source, 0);
    expect(first.prompt).toBe('Call ⟦P0⟧ on the input and compare the result with ⟦P1⟧ before you use it.');
    expect(judge(first, 'Appelez ⟦P0⟧ sur l’entrée et comparez le résultat avec ⟦P1⟧ avant de l’utiliser.')).toEqual({ ok: true, text: reply });
    const retry = translationAttempt(source, 1);
    expect(retry.prompt).toBe(source);
    expect(retry.masked).toBe(first.masked);
    expect(judge(retry, reply)).toEqual({ ok: true, text: reply });
    // The embedded model's rewrite of a span it was shown as a placeholder is lost on either attempt.
    expect(judge(first, reply.replace('`parseVersion(text)`', '{P0}'))).toEqual({ ok: false, reason: 'translate_placeholder_lost' });
    expect(judge(retry, reply.replace('`parseVersion(text)`', '`parseVersion`'))).toEqual({ ok: false, reason: 'translate_placeholder_lost' });
    expect(judge(retry, reply, 'length')).toEqual({ ok: false, reason: 'translate_truncated' });
  });

  it('a text with no protected span is sent the same on every attempt', () => {
    const plain = 'The loop stops once the index reaches the end of the list.';
    expect(translationAttempt(plain, 1).prompt).toBe(plain);
    expect(translationAttempt(plain, 1).asMasked('La boucle ⟦P0⟧')).toBe('La boucle ⟦P0⟧');
  });
});

describe('extractTranslation: wrappers and preambles', () => {
  it.each([
    ['the whole <text> wrapper', '<text>\nVous avez une fonction.\n</text>', 'Vous avez une fonction.'],
    ['fr_code: a preamble, then an unclosed <text> on the same line', 'Voici la traduction en français :  <text> Vous avez une fonction qui trie une liste.', 'Vous avez une fonction qui trie une liste.'],
    ['a closing </text> alone', 'Vous avez une fonction.\n</text>', 'Vous avez une fonction.'],
    ['en: "Here is the translation:" on its own line', 'Here is the translation:\n\nYou have a function.', 'You have a function.'],
    ['zh: "以下是翻译：" and the wrapper', '以下是翻译：\n<text>\n你有一个函数。\n</text>', '你有一个函数。'],
    ['ru: "Вот перевод:"', 'Вот перевод: У вас есть функция.', 'У вас есть функция.'],
    ['es: "Aquí está la traducción:" after an opener', '¡Claro! Aquí está la traducción al español:\nTienes una función.', 'Tienes una función.'],
    ['a bare label "Traduction en français :"', 'Traduction en français : Vous avez une fonction.', 'Vous avez une fonction.'],
    ['zh: a bare label "翻译成中文："', '翻译成中文：你有一个函数。', '你有一个函数。'],
    // Replies of the embedded model (Qwen2.5-Coder-0.5B) to the demo's Magicoder sample, in es.
    ['es: a first line of its own words about the translation', 'El lenguaje natural traducido es:\n\nImplementa una clase con dos operaciones.', 'Implementa una clase con dos operaciones.'],
    [
      'es: an intro naming the wrapper, then the translation fenced as plain text',
      'La traducción al español del texto entre <text> y </text> es:\n\n```plaintext\nComplete el helper. Recibe una función.\n```',
      'Complete el helper. Recibe una función.',
    ],
    ['es: "… es el siguiente:", then the wrapper', 'Traducir al español el texto proporcionado es el siguiente:\n\n<text>\nEscriba una función genérica.\n</text>', 'Escriba una función genérica.'],
  ])('strips %s', (_name, reply, expected) => {
    expect(extractTranslation(reply)).toBe(expected);
  });

  it.each([
    ['a title that starts with the word', 'Traduction automatique et apprentissage : un aperçu.'],
    ['a preamble with nothing after it (left for the wrapper check)', 'Voici la traduction en français :'],
    ['a sentence about a translation', 'Voici pourquoi la traduction est difficile : les langues diffèrent.'],
    ['a first line ending in a colon that is not about translating', 'Voici les étapes :\n1. Lire le fichier.'],
    ['a fenced block that is only part of the reply', '```text\nbonjour\n```\nPuis la suite.'],
  ])('keeps %s', (_name, reply) => {
    expect(extractTranslation(reply)).toBe(reply);
  });

  it('keeps a preamble the source itself starts with', () => {
    const source = 'Here is the translation of your sentence into Spanish:\n\nMe gusta el café.';
    const reply = 'Voici la traduction de votre phrase en espagnol :\n\nMe gusta el café.';
    expect(extractTranslation(reply, source)).toBe(reply);
    expect(extractTranslation(reply)).toBe('Me gusta el café.');
    expect(restoreTranslation(reply, [], { source })).toEqual({ ok: true, text: reply });
    const intro = 'Machine translation, explained:\nIt maps one language to another.';
    expect(extractTranslation('La traduction automatique, expliquée :\nElle fait passer d’une langue à l’autre.', intro)).toBe('La traduction automatique, expliquée :\nElle fait passer d’une langue à l’autre.');
  });
});

describe('checkTranslation: wrapper, numbers and length (real fastText)', () => {
  const check = (text: string, source: string, expectedLabel: string, more: object = {}) =>
    checkTranslation({ text, finishReason: 'stop', slots: mask(source).slots }, { langId, expectedLabel, source: mask(source).masked, ...more });

  // A Magicoder-style instruction and a French translation, wrapped as the fr_code build of the embedded model wrapped its own.
  const codeSource = 'You have a function `sort_items(items)` that sorts a list of dictionaries by their "price" key. Modify it so that items with the same price are sorted by name, and explain why a stable sort makes this easy.';
  const frCode = 'Vous avez une fonction ⟦P0⟧ qui trie une liste de dictionnaires selon leur clé « price ». Modifiez-la pour que les éléments de même prix soient triés par nom, et expliquez pourquoi un tri stable facilite cela.';
  it('fr_code: the preamble and an unclosed <text> are taken off, the translation kept', () => {
    expect(check(`Voici la traduction en français :  <text> ${frCode}`, codeSource, 'fr')).toEqual({ keep: true });
    const restored = restoreTranslation(`Voici la traduction en français :  <text> ${frCode}`, mask(codeSource).slots);
    expect(restored.ok && restored.text.startsWith('Vous avez une fonction `sort_items(items)`')).toBe(true);
  });
  it.each([
    ['a <text> tag left inside', `${frCode.slice(0, 80)} <text> ${frCode.slice(80)}`],
    ['a preamble inside, after a first attempt', `${frCode}\n\nVoici la traduction en français : ${frCode}`],
    ['a preamble with nothing after it', 'Voici la traduction en français :'],
    ['the <text> wrapper closed, then a trailer', `<text>${frCode}</text> J'espère que cela vous aide !`],
  ])('translate_wrapper_left: %s', (_name, text) => {
    expect(check(text, codeSource, 'fr')).toEqual({ keep: false, reason: 'translate_wrapper_left' });
  });
  // The es_math query the embedded model wrote in a fresh-clone demo, kept by every other gate (its quotes included).
  const mathSource = 'A train travels at 60 miles per hour for 2.5 hours and then at 40 miles per hour for x hours. How many miles does the train travel in total? If we know the answer to the above question is 210, what is the value of unknown variable x?';
  const esMath = '"Un tren viaja a 60 millas por hora durante 2.5 horas y luego a 40 millas por hora durante x horas. ¿Cuántas millas recorre el tren en total? Si sabemos que la respuesta a la pregunta anterior es 210, ¿cuál es el valor de la variable desconocida x?"';
  it.each([
    ['es, as generated', `${esMath}\n\nEsta traducción es completa, fiel, natural, eficiente, y respeta las convenciones del español, incluyendo la ortografía y la puntuación.`, 'es'],
    ['fr', `${esMath.replace(/.*/s, '"Un train roule à 60 miles par heure pendant 2.5 heures puis à 40 miles par heure pendant x heures. Combien de miles le train parcourt-il au total ? Si la réponse à la question ci-dessus est 210, quelle est la valeur de la variable inconnue x ?"')}\n\nCette traduction respecte le sens et les nombres du texte d'origine.`, 'fr'],
    ['ru', '«Поезд едет со скоростью 60 миль в час 2.5 часа, а затем 40 миль в час x часов. Сколько миль всего проезжает поезд? Если ответ на этот вопрос 210, чему равна неизвестная переменная x?»\n\nЭтот перевод сохраняет все числа и смысл исходного текста.', 'ru'],
    ['zh', '一列火车以每小时60英里的速度行驶2.5小时，然后以每小时40英里的速度行驶x小时。火车总共行驶多少英里？如果上述问题的答案是210，未知变量x的值是多少？\n\n这个翻译准确地保留了原文的数字和含义。', 'zh'],
  ])('translate_commentary: a note about the translation after it (%s)', (_name, text, label) => {
    expect(check(text, mathSource, label)).toEqual({ keep: false, reason: 'translate_commentary' });
  });
  it('a translation of a source that talks about a translation keeps its words', () => {
    const source = 'My friend says the translation is too literal. How can I make a translation sound natural without losing the meaning of the original?';
    const text = 'Mi amigo dice que la traducción es demasiado literal. ¿Cómo puedo hacer que una traducción suene natural sin perder el sentido del original?';
    expect(check(text, source, 'es')).toEqual({ keep: true });
    expect(check(esMath, mathSource, 'es')).toEqual({ keep: true });
  });
  it('a source that talks about <text> tags may keep them', () => {
    const source = 'Put the caption inside the <text> element of the SVG file, then save the file and reload the page in the browser.';
    const text = 'Placez la légende dans l’élément <text> du fichier SVG, puis enregistrez le fichier et rechargez la page dans le navigateur.';
    expect(check(text, source, 'fr')).toEqual({ keep: true });
  });

  // [name, source, translation, label, reason]
  const numberTable: Array<[string, string, string, string, string | null]> = [
    ['a number the source has none of is made up', 'What is the value of the sum of the three fractions?', 'El valor de la suma de las tres fracciones es 1989.', 'es', 'translate_numbers_changed'],
    ['a small number for a word of a source without numbers is kept', 'Give an example of a prime number and say why it is prime.', 'Donnez 1 exemple de nombre premier et dites pourquoi il est premier.', 'fr', null],
    // The zh_math answer of the embedded model switched 公里 to 英里.
    ['zh_math: km kept as 公里', 'The town is 5 km from the lake. Walking at 4 km per hour, Anna needs 1.25 hours. The answer is: 1.25', '小镇距离湖泊5公里。以每小时4公里的速度步行，安娜需要1.25小时。答案是：1.25', 'zh', null],
    ['zh_math: km turned into miles', 'The town is 5 km from the lake. Walking at 4 km per hour, Anna needs 1.25 hours. The answer is: 1.25', '小镇距离湖泊5英里。以每小时4英里的速度步行，安娜需要1.25小时。答案是：1.25', 'zh', 'translate_numbers_changed'],
    ['zh: a digit changed', 'A box holds 12 pencils, so 7 boxes hold 84 pencils. The answer is: 84', '一盒装12支铅笔，所以7盒装48支铅笔。答案是：48', 'zh', 'translate_numbers_changed'],
    ['zh: millions as 万, a decade as 年代', 'The city had 1,500,000 people in 1990 and 2.3 million in the 2010s.', '该市在1990年有150万人口，在2010年代有230万人口。', 'zh', null],
    ['zh: small numbers written as words', 'Tom has 3 apples and buys 2 more, then gives 1 away.', '汤姆有3个苹果，又买了两个，然后送出了一个。', 'zh', null],
    ['zh: a month name becomes a number', 'The meeting starts on March 5, 2021.', '会议于2021年3月5日开始。', 'zh', null],
    ['zh: a small number changed', 'Tom has 3 apples and buys 2 more.', '汤姆有4个苹果，又买了2个。', 'zh', 'translate_numbers_changed'],
    ['fr: digit grouping and a decimal comma', 'The city had 1,500,000 people in 1990 and 2.3 million in 2010.', 'La ville comptait 1 500 000 habitants en 1990 et 2,3 millions en 2010.', 'fr', null],
    ['fr: a decimal changed', 'The city had 1,500,000 people in 1990 and 2.3 million in 2010.', 'La ville comptait 1 500 000 habitants en 1990 et 2,8 millions en 2010.', 'fr', 'translate_numbers_changed'],
    ['fr: 10:30 pm as 22 h 30', 'The meeting starts at 10:30 pm on 5 March.', 'La réunion commence à 22 h 30 le 5 mars.', 'fr', null],
    ['fr: a quantity made up for a source without numbers', 'The recipe needs flour, sugar and eggs.', 'La recette demande 500 g de farine, du sucre et des œufs.', 'fr', 'translate_numbers_changed'],
    ['fr: a new number where the source has some', 'Bake the cake for 25 minutes.', 'Faites cuire le gâteau pendant 25 minutes à 180 degrés.', 'fr', 'translate_numbers_changed'],
    ['ru: a Roman century and a decimal comma', 'In the 20th century, the price rose from $5 to $12.50 per kilogram.', 'В XX веке цена выросла с 5 до 12,50 долларов за килограмм.', 'ru', null],
    ['ru: Fahrenheit turned into Celsius', 'It is 100°F outside today.', 'Сегодня на улице 100 °C.', 'ru', 'translate_numbers_changed'],
    ['ru: thousands as тыс.', 'About 20,000 people came to the square.', 'На площадь пришли около 20 тыс. человек.', 'ru', null],
    ['es: a Roman century, a decimal comma and a currency after the number', 'In the 20th century, the price rose from $5 to $12.50 per kilogram.', 'En el siglo XX, el precio subió de 5 a 12,50 dólares por kilo.', 'es', null],
    ['es: mil millones', 'The project cost $3 billion.', 'El proyecto costó 3 mil millones de dólares.', 'es', null],
    ['es: dollars turned into euros', 'The ticket costs $40 and the tour lasts 2 hours.', 'La entrada cuesta 40 euros y la visita dura 2 horas.', 'es', 'translate_numbers_changed'],
    ['es: a number lost', 'The ticket costs $40 and the tour lasts 2 hours.', 'La entrada cuesta dólares y la visita dura 2 horas.', 'es', 'translate_numbers_changed'],
  ];
  it.each(numberTable)('numbers: %s', (_name, source, text, label, reason) => {
    expect(check(text, source, label)).toEqual(reason === null ? { keep: true } : { keep: false, reason });
  });

  it('numbers: numbers inside LaTeX and code are placeholders, compared by the placeholder check, not here', () => {
    const source = 'Solve $2x + 6 = 20$ and print it with `print(7)`. The answer is: 7';
    expect(check('解方程 ⟦P0⟧ 并用 ⟦P1⟧ 打印结果。答案是：7', source, 'zh')).toEqual({ keep: true });
    expect(check('解方程 ⟦P0⟧ 并用 ⟦P1⟧ 打印结果。答案是：8', source, 'zh')).toEqual({ keep: false, reason: 'translate_numbers_changed' });
  });

  // The copy check's source (215 characters) and faithful translations of it.
  const longSource = 'The old library in the city centre opens early on weekdays and closes late on Fridays. Many farmers in the valley grow apples and pears. Scientists believe the lake was formed by a glacier many thousands of years ago.';
  const full: Record<string, string> = {
    fr: 'La vieille bibliothèque du centre-ville ouvre tôt en semaine et ferme tard le vendredi. De nombreux agriculteurs de la vallée cultivent des pommes et des poires. Les scientifiques pensent que le lac a été formé par un glacier il y a plusieurs milliers d’années.',
    es: 'La antigua biblioteca del centro de la ciudad abre temprano entre semana y cierra tarde los viernes. Muchos agricultores del valle cultivan manzanas y peras. Los científicos creen que el lago se formó por un glaciar hace muchos miles de años.',
    ru: 'Старая библиотека в центре города открывается рано по будням и закрывается поздно по пятницам. Многие фермеры в долине выращивают яблоки и груши. Учёные считают, что озеро образовалось из ледника много тысяч лет назад.',
    zh: '市中心的老图书馆在工作日很早开门，星期五很晚才关门。山谷里的许多农民种植苹果和梨。科学家认为，这个湖是在几千年前由冰川形成的。',
  };
  // [name, translation, label, reason]
  const lengthTable: Array<[string, string, string, string | null]> = [
    ...Object.entries(full).map(([lang, text]): [string, string, string, string | null] => [`${lang}: a whole translation`, text, lang, null]),
    ['fr: a one-line summary', 'Une bibliothèque, des vergers et un lac glaciaire.', 'fr', 'translate_length_ratio'],
    ['zh: a one-line summary', '介绍了图书馆、农民和湖泊。', 'zh', 'translate_length_ratio'],
    ['ru: the translation with notes and a second version after it', `${full.ru} Примечание: перевод выполнен близко к тексту. Другой вариант: ${full.ru} ${full.ru}`, 'ru', 'translate_length_ratio'],
    ['ru: a whole translation with a Latin P inside a Cyrillic word', full.ru!.replace('библиотека', 'библиоPтека'), 'ru', 'translate_mixed_script'],
    ['es: the first two sentences only (0.72, within the band)', full.es.split('. ').slice(0, 2).join('. ') + '.', 'es', null],
  ];
  it.each(lengthTable)('length: %s', (_name, text, label, reason) => {
    expect(check(text, longSource, label)).toEqual(reason === null ? { keep: true } : { keep: false, reason });
  });
  it('names only reasons from TRANSLATE_DROP_REASONS, which lists the new checks in check order', () => {
    for (const [, , , , reason] of numberTable) if (reason !== null) expect(TRANSLATE_DROP_REASONS).toContain(reason);
    for (const [, , , reason] of lengthTable) if (reason !== null) expect(TRANSLATE_DROP_REASONS).toContain(reason);
    const order = ['translate_prompt_echo', 'translate_wrapper_left', 'translate_commentary', 'translate_placeholder_altered', 'translate_copied_source', 'translate_mixed_script', 'translate_numbers_changed', 'translate_length_ratio'];
    expect(TRANSLATE_DROP_REASONS.filter((r) => order.includes(r))).toEqual(order);
  });
  it('length: a short source is not judged, and the bands are options', () => {
    expect(check('Une bibliothèque.', 'The old library in the city centre opens early on weekdays.', 'fr')).toEqual({ keep: true });
    expect(check(full.fr!, longSource, 'fr', { maxLengthRatio: 1.1 })).toEqual({ keep: false, reason: 'translate_length_ratio' });
    expect(check('Une bibliothèque, des vergers et un lac glaciaire.', longSource, 'fr', { minLengthRatioChars: 1000 })).toEqual({ keep: true });
  });
});
