import { beforeAll, describe, expect, it } from 'vitest';
import { instructionText, renderAnswerMessages, renderHistory, renderQuestionMessages } from '../../../src/core/dialogue/render';
import { loadDialoguePack } from '../../../src/prompts/load';
import { HAVE_SHARED_DATA, SHARED_DATA_MISSING } from '../../support/shared-data';
import { sharedBackground } from './shared-paragraphs';

const LANGS = ['en', 'zh', 'ru', 'fr', 'es'] as const;

if (!HAVE_SHARED_DATA) console.warn(SHARED_DATA_MISSING);

describe.skipIf(!HAVE_SHARED_DATA)('dialogue prompts rendered for a real shared segment (Figure 4)', () => {
  describe.each(LANGS)('%s', (lang) => {
    const pack = loadDialoguePack(lang);
    // Read at test time, not collection time: collection also runs when the suite is skipped.
    let background = '';
    let document = '';
    beforeAll(() => {
      background = sharedBackground(lang, lang === 'zh' ? 500 : 1200).text;
      document = `<document>\n${background}\n</document>`;
    });
    const history = ['Q1 text', 'A1 text\nsecond paragraph', 'Q2 text', 'A2 text'];

    it('initial question: system prompt, principles, document, empty history', () => {
      const messages = renderQuestionMessages(pack, { background, history: [], kind: 'initial' });
      expect(messages).toEqual([
        { role: 'system', content: `${pack.initialQuestion.system}\n\n${pack.initialQuestion.principles}` },
        { role: 'user', content: document },
      ]);
    });

    it.each([
      ['in_depth', 'inDepthQuestion'],
      ['expansive', 'expansiveQuestion'],
    ] as const)('%s follow-up question: its own principles, the document again, then the labelled history', (kind, part) => {
      const messages = renderQuestionMessages(pack, { background, history, kind });
      expect(messages[0]).toEqual({ role: 'system', content: `${pack[part].system}\n\n${pack[part].principles}` });
      expect(messages[1].content).toBe(
        `${document}\n\n${pack.labels.history}\n${pack.labels.user}: Q1 text\n${pack.labels.assistant}: A1 text\nsecond paragraph\n` +
          `${pack.labels.user}: Q2 text\n${pack.labels.assistant}: A2 text`,
      );
    });

    it('initial answer: answer principles, document, the question as the only history line', () => {
      const messages = renderAnswerMessages(pack, { background, history: [], question: 'Q1 text', kind: 'initial' });
      expect(messages).toEqual([
        { role: 'system', content: `${pack.initialAnswer.system}\n\n${pack.initialAnswer.principles}` },
        { role: 'user', content: `${document}\n\n${pack.labels.history}\n${pack.labels.user}: Q1 text` },
      ]);
    });

    it('follow-up answer: the pending question ends the history', () => {
      const messages = renderAnswerMessages(pack, { background, history: history.slice(0, 2), question: 'Q2 text', kind: 'followup' });
      expect(messages[0].content.startsWith(pack.followupAnswer.system)).toBe(true);
      expect(messages[1].content.startsWith(document)).toBe(true);
      expect(messages[1].content.endsWith(`${pack.labels.assistant}: A1 text\nsecond paragraph\n${pack.labels.user}: Q2 text`)).toBe(true);
    });
  });
});

describe('rendering refuses inconsistent inputs', () => {
  const pack = loadDialoguePack('en');
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['odd history', () => renderQuestionMessages(pack, { background: 'b', history: ['q'], kind: 'in_depth' }), /whole turns/],
    ['initial question with history', () => renderQuestionMessages(pack, { background: 'b', history: ['q', 'a'], kind: 'initial' }), /does not fit/],
    ['follow-up question without history', () => renderQuestionMessages(pack, { background: 'b', history: [], kind: 'expansive' }), /does not fit/],
    ['follow-up answer without history', () => renderAnswerMessages(pack, { background: 'b', history: [], question: 'q', kind: 'followup' }), /does not fit/],
    ['empty question', () => renderAnswerMessages(pack, { background: 'b', history: [], question: ' ', kind: 'initial' }), /empty question/],
  ];
  it.each(cases)('%s', (_name, call, message) => {
    expect(call).toThrow(message);
  });

  it('renders no history block for an empty history', () => {
    expect(renderHistory(pack, [])).toBe('');
  });
});

describe('instructionText (the echo gate reference)', () => {
  const pack = loadDialoguePack('fr');
  const background = 'Le mur de Berlin est tombé le 9 novembre 1989, après des semaines de manifestations en RDA.';
  it.each([
    ['initial question', () => renderQuestionMessages(pack, { background, history: [], kind: 'initial' }), pack.initialQuestion],
    ['expansive question', () => renderQuestionMessages(pack, { background, history: ['Q1 texte', 'R1 texte'], kind: 'expansive' }), pack.expansiveQuestion],
    ['follow-up answer', () => renderAnswerMessages(pack, { background, history: ['Q1 texte', 'R1 texte'], question: 'Q2 texte', kind: 'followup' }), pack.followupAnswer],
  ] as const)('%s: system prompt and principles only, never the document or the history', (_name, render, part) => {
    const text = instructionText(render());
    expect(text).toBe(`${part.system}\n\n${part.principles}`);
    expect(text).not.toContain(background);
    expect(text).not.toContain('Q1 texte');
  });
});
