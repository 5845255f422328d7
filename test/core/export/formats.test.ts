import { describe, expect, it } from 'vitest';
import { exportedTurns, stripDocumentWith, templateSplitter, toMessages, toShareGpt } from '../../../src/core/export/formats';
import type { DatasetLine } from '../../../src/core/records';

const split = templateSplitter({ en: 'Document:\n{document}\n\nQuestion: {question}', zh: '{question}\n参考资料：{document}' });

describe('templateSplitter', () => {
  it.each([
    ['document first', 'en', 'Document:\nRome is old.\nIt has seven hills.\n\nQuestion: Why is Rome old?', { document: 'Rome is old.\nIt has seven hills.', question: 'Why is Rome old?' }],
    ['question first', 'zh', '长城有多长？\n参考资料：长城全长两万多公里。', { document: '长城全长两万多公里。', question: '长城有多长？' }],
    ['not following the template', 'en', 'Why is Rome old?', undefined],
    ['language without a template', 'fr', 'Document:\nx\n\nQuestion: y', undefined],
  ])('%s', (_, lang, turn, expected) => {
    expect(split(turn, lang)).toEqual(expected);
  });

  it('strips to the bare question, or keeps the turn when it does not match', () => {
    const strip = stripDocumentWith(split);
    expect(strip('Document:\nD\n\nQuestion: Q?', 'en')).toBe('Q?');
    expect(strip('Just a question?', 'en')).toBe('Just a question?');
  });

  it('rejects a template without both slots', () => {
    expect(() => templateSplitter({ en: 'Question: {question}' })).toThrow(/en/);
  });
});

describe('exports', () => {
  const line: DatasetLine = { id: 'en_chat_specific_0', data: ['Document:\nRome is old.\n\nQuestion: Why?', 'History.', 'More?', 'Yes.'] };
  const opts = { lang: 'en', subset: 'chat_specific' as const, split };

  it('writes ShareGPT conversations', () => {
    expect(toShareGpt(line, opts)).toEqual({
      id: 'en_chat_specific_0',
      conversations: [
        { from: 'human', value: line.data[0] },
        { from: 'gpt', value: 'History.' },
        { from: 'human', value: 'More?' },
        { from: 'gpt', value: 'Yes.' },
      ],
    });
  });

  it('moves the document into a system turn on request', () => {
    const r = toMessages(line, { ...opts, documentAsSystem: true });
    expect(r.messages.slice(0, 2)).toEqual([
      { role: 'system', content: 'Rome is old.' },
      { role: 'user', content: 'Why?' },
    ]);
    expect(exportedTurns(r)).toBe(2);
    // the sidecar wins over the template
    expect(toShareGpt(line, { ...opts, documentAsSystem: true, sidecar: { document: 'D', question: 'Q' } }).conversations.slice(0, 2)).toEqual([
      { from: 'system', value: 'D' },
      { from: 'human', value: 'Q' },
    ]);
  });

  it.each([
    ['other subsets', { ...opts, subset: 'math' as const, documentAsSystem: true }],
    ['no template match', { ...opts, documentAsSystem: true, split: templateSplitter({ en: 'Doc: {document} Q: {question}' }) }],
    ['option off', opts],
  ])('leaves the first turn alone: %s', (_, o) => {
    const r = toMessages(line, o);
    expect(r.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(r.messages[0].content).toBe(line.data[0]);
  });
});
