import { describe, expect, it } from 'vitest';
import { convertScript, countTraditionalOnlyChars, toSimplified } from '../../../src/core/text/script';

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
