import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTranslatePack, translateInstructions } from '../../../src/core/agnostic/translate';
import { ECHO_DROP_SHARE, echoShare, isPromptEcho } from '../../../src/core/text/echo';
import { loadDialoguePack } from '../../../src/prompts/load';

const en = loadDialoguePack('en');
const zh = loadDialoguePack('zh');
const frTranslate = parseTranslatePack(readFileSync(path.resolve(__dirname, '../../../src/prompts/fr.translate.yaml'), 'utf8'));

const EN_QUESTION_INSTRUCTIONS = `${en.initialQuestion.system}\n\n${en.initialQuestion.principles}`;
const EN_ANSWER_INSTRUCTIONS = `${en.initialAnswer.system}\n\n${en.initialAnswer.principles}`;
const ZH_ANSWER_INSTRUCTIONS = `${zh.initialAnswer.system}\n\n${zh.initialAnswer.principles}`;
const FR_INSTRUCTIONS = translateInstructions(frTranslate, 'chat');

describe('echoShare', () => {
  it.each([
    ['en: the instructions returned verbatim', en.initialQuestion.system, EN_QUESTION_INSTRUCTIONS, 1],
    ['en: a principle re-cased, re-punctuated and re-spaced', en.initialAnswer.principles.split('\n')[2]!.toUpperCase().replace(/[,:]/g, ' ;  '), EN_ANSWER_INSTRUCTIONS, 1],
    ['en: a real question', 'Why did the Berlin Wall fall so suddenly in 1989, and who decided to open it?', EN_QUESTION_INSTRUCTIONS, 0],
    [
      'en: a real answer',
      'The wall fell in 1989 because the East German government, facing mass protests and an exodus of its citizens through Hungary, could no longer hold the border.',
      EN_ANSWER_INSTRUCTIONS,
      0,
    ],
    ['zh: a principle returned with other punctuation', zh.initialAnswer.principles.split('\n')[1]!.replace(/[，：]/g, ' '), ZH_ANSWER_INSTRUCTIONS, 1],
    ['zh: a real answer', '柏林墙之所以在1989年倒塌，是因为东德政府在大规模抗议和大量民众经匈牙利出逃的双重压力下，已经无法继续控制边境。', ZH_ANSWER_INSTRUCTIONS, 0],
    ['fr: the translation pack system prompt with straight apostrophes', frTranslate.system.replace(/’/g, "'"), FR_INSTRUCTIONS, 1],
    ['fr: the user template instruction line', "Traduisez en français le texte anglais placé entre <text> et </text>", FR_INSTRUCTIONS, 1],
    [
      'fr: a real translation',
      "Le mur est tombé en 1989 parce que le gouvernement est-allemand, confronté à des manifestations massives, ne pouvait plus tenir la frontière.",
      FR_INSTRUCTIONS,
      0,
    ],
    ['an output under 6 words, even if copied', 'Output only the question itself', EN_QUESTION_INSTRUCTIONS, 0],
    ['zh: an output under 12 letters, even if copied', '请用简体中文作答', ZH_ANSWER_INSTRUCTIONS, 0],
    ['empty instructions', en.initialQuestion.system, '', 0],
  ])('%s', (_name, output, instructions, share) => {
    expect(echoShare(output, instructions)).toBeCloseTo(share, 10);
  });

  it('measures containment of the output, not symmetric overlap', () => {
    const short = en.initialQuestion.system.split('. ')[0]!;
    expect(echoShare(short, EN_QUESTION_INSTRUCTIONS)).toBe(1);
    expect(echoShare(EN_QUESTION_INSTRUCTIONS, short)).toBeLessThan(0.1);
  });

  it('counts each shingle of the output: an echo followed by a real reply shares in proportion', () => {
    // 11 copied words give 6 copied shingles; 6 more words make 12 shingles in all (0.5), 7 more make 13 (6/13).
    const instructions = 'Output only the question itself with no numbering and no label.';
    const atThreshold = `${instructions} Why did the wall fall in`;
    const below = `${instructions} Why did the wall fall in 1989`;
    expect(echoShare(atThreshold, instructions)).toBe(0.5);
    expect(echoShare(below, instructions)).toBeCloseTo(6 / 13, 10);
    expect(ECHO_DROP_SHARE).toBe(0.5);
    expect(isPromptEcho(atThreshold, instructions)).toBe(true);
    expect(isPromptEcho(below, instructions)).toBe(false);
  });

  it('compares a zh output letter-wise even when its instructions mix in Latin words', () => {
    const output = zh.initialQuestion.system.slice(0, 40);
    expect(echoShare(output, `Instructions (zh): ${zh.initialQuestion.system}`)).toBe(1);
  });
});
