import { describe, expect, it } from 'vitest';
import { buildDialogueSidecar, dialogueLineId, formatDialogueLine, frameFirstTurn } from '../../../src/core/dialogue/format';
import { loadDialoguePack } from '../../../src/prompts/load';

const LANGS = ['en', 'zh', 'ru', 'fr', 'es'] as const;
const TURNS = ['Why did the wall fall?', 'Because the border could no longer be held.', 'What followed in Europe?', 'Reunification within a year.'];
const BACKGROUND = '  The Berlin Wall stood from 1961 to 1989.\n';

describe('formatDialogueLine', () => {
  it.each(LANGS)('%s: first user turn carries the document in the pack framing, the rest verbatim', (lang) => {
    const pack = loadDialoguePack(lang);
    const line = formatDialogueLine({ lang, index: 41, background: BACKGROUND, turns: TURNS, pack, includeDocument: true });
    expect(line.id).toBe(`${lang}_chat_specific_41`);
    expect(line.data).toHaveLength(4);
    const [intro] = pack.firstTurnFraming.split('<document>');
    expect(line.data[0]).toBe(`${intro}<document>\nThe Berlin Wall stood from 1961 to 1989.\n</document>\nWhy did the wall fall?`);
    expect(line.data.slice(1)).toEqual(TURNS.slice(1));
    expect(JSON.parse(JSON.stringify(line))).toEqual(line);
  });

  it('leaves the first question bare when the document switch is off', () => {
    const line = formatDialogueLine({ lang: 'fr', index: 0, background: BACKGROUND, turns: TURNS, pack: loadDialoguePack('fr'), includeDocument: false });
    expect(line).toEqual({ id: 'fr_chat_specific_0', data: TURNS });
  });

  it('fills slots in one pass: slot-like text in the document or question is kept literally', () => {
    const pack = loadDialoguePack('en');
    const framed = frameFirstTurn(pack, 'A template uses {question} and $& here.', 'What is {document}?');
    expect(framed).toContain('<document>\nA template uses {question} and $& here.\n</document>\nWhat is {document}?');
  });

  it.each([
    ['no turns', []],
    ['a question without its answer', TURNS.slice(0, 3)],
  ])('refuses %s', (_name, turns) => {
    expect(() => formatDialogueLine({ lang: 'en', index: 0, background: BACKGROUND, turns, pack: loadDialoguePack('en'), includeDocument: true })).toThrow(/whole question\/answer turns/);
  });

  it.each([-1, 1.5])('refuses index %s', (index) => {
    expect(() => dialogueLineId('en', index)).toThrow(RangeError);
  });
});

describe('buildDialogueSidecar', () => {
  it('records provenance and sums every call, including the one that ended the dialogue', () => {
    const record = buildDialogueSidecar({
      id: 'zh_chat_specific_7',
      segment: { id: 'seg-abc', pageId: 13, title: '数学' },
      turnKinds: ['initial', 'in_depth', 'expansive'],
      pack: loadDialoguePack('zh'),
      model: 'gpt-3.5-turbo-0613',
      calls: [
        { promptTokens: 1500, completionTokens: 40 },
        { promptTokens: 1560, completionTokens: 400 },
        { promptTokens: 2000, completionTokens: 35 },
        { promptTokens: 2050, completionTokens: 380 },
        { promptTokens: 2450, completionTokens: 30 },
        { promptTokens: 2500, completionTokens: 350 },
        { promptTokens: 2900, completionTokens: 256 },
      ],
    });
    expect(record).toEqual({
      id: 'zh_chat_specific_7',
      segmentId: 'seg-abc',
      pageId: 13,
      title: '数学',
      turnKinds: ['initial', 'in_depth', 'expansive'],
      packVersion: 'zh-dialogue-1',
      model: 'gpt-3.5-turbo-0613',
      promptTokens: 14_960,
      completionTokens: 1491,
      calls: 7,
    });
  });
});
