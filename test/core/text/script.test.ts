import { describe, expect, it } from 'vitest';
import { convertScript, countTraditionalOnlyChars, hasNewMixedScriptWord, mixedScriptWords, toSimplified } from '../../../src/core/text/script';

describe('toSimplified', () => {
  it.each([
    ['traditional', '數學是研究數量、結構以及空間等概念的一門學科。', '数学是研究数量、结构以及空间等概念的一门学科。'],
    ['taiwan variant', '這個軟體很偽善', '这个软体很伪善'],
    ['already simplified', '柏林是德国最大的城市。', '柏林是德国最大的城市。'],
    ['non-chinese text', 'Berlin 2024', 'Berlin 2024'],
  ])('%s', (_name, input, expected) => {
    expect(toSimplified(input)).toBe(expected);
  });
});

describe('convertScript', () => {
  it.each([
    ['t2s', '們', '们'],
    ['none', '們', '們'],
    [undefined, '們', '們'],
  ] as const)('%s', (conversion, input, expected) => {
    expect(convertScript(input, conversion)).toBe(expected);
  });
});

describe('countTraditionalOnlyChars', () => {
  it.each([
    ['traditional-only characters', '們說數學', 4],
    ['simplified text', '我们说数学', 0],
    ['characters shared by both scripts', '乾隆的著名著作', 0],
    ['mixed', '數学', 1],
  ])('%s', (_name, text, n) => {
    expect(countTraditionalOnlyChars(text)).toBe(n);
  });
});

describe('mixedScriptWords', () => {
  it.each([
    // Words the embedded model wrote in the demo: a Latin P inside a Cyrillic word, a Latin start, Han glued to Cyrillic.
    ['ru: Latin P inside a Cyrillic word', 'Значения хранятся в ТуPле, а не в списке.', ['ТуPле']],
    ['ru: Latin letters starting a Cyrillic word', 'Эти deли важны для города.', ['deли']],
    ['zh: Han glued to Cyrillic', '在Как 这个词之后', ['在Как']],
    ['zh: Han beside Latin is ordinary zh', '在Python中可以这样写', []],
    // The embedded model's fr question and en answer in the demo: Han glued to a Latin word of a spaced text.
    ['fr: Han glued to a Latin word', 'Dans英国, comment le canal a-t-il été commencé ?', ['Dans英国']],
    ['en: Han glued to a Latin word', 'Based on the经典 history of the Severn', ['the经典']],
    ['en: a Chinese name set apart by spaces is no slip', 'The tea is called 龙井 in Chinese.', []],
    ['formulas glue Greek to Latin', 'The area is πr² and the size is 5 μm.', []],
    ['words of one script each, side by side', 'Слово Python и слово Москва', []],
    ['a hyphen separates the scripts', 'Windows-приложение', []],
    ['each mixed word once', 'ТуPле и ТуPле', ['ТуPле']],
  ])('%s', (_name, text, words) => {
    expect(mixedScriptWords(text)).toEqual(words);
  });

  it('a mixed word that its reference already holds is not new', () => {
    expect(hasNewMixedScriptWord('Компания ЯndeX основана в 1997 году.', 'ЯndeX — российская компания.')).toBe(false);
    expect(hasNewMixedScriptWord('Компания ЯndeX основана в ТуPле.', 'ЯndeX — российская компания.')).toBe(true);
    expect(hasNewMixedScriptWord('Компания основана в 1997 году.', '')).toBe(false);
  });
});
