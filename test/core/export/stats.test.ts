import { get_encoding } from 'tiktoken';
import { afterAll, describe, expect, it } from 'vitest';
import { templateSplitter, stripDocumentWith } from '../../../src/core/export/formats';
import {
  addDialogue,
  averages,
  emptyAccumulator,
  mergeAccumulators,
  parseDatasetFileName,
  renderTable1,
  renderTable2,
  summarizeStats,
  table1,
  table2,
  type FileStats,
  type Subset,
} from '../../../src/core/export/stats';
import type { DatasetLine } from '../../../src/core/records';

const enc = get_encoding('cl100k_base');
afterAll(() => enc.free());
const tok = (s: string) => enc.encode(s).length;
const countTokens = (s: string) => enc.encode(s).length;
const strip = stripDocumentWith(templateSplitter({ en: 'Document:\n{document}\n\nQuestion: {question}', zh: '文档：{document}\n问题：{question}' }));

describe('parseDatasetFileName', () => {
  it.each([
    ['en_chat_specific.jsonl', { lang: 'en', subset: 'chat_specific' }],
    ['out/zh_math.jsonl', { lang: 'zh', subset: 'math' }],
    ['ru_code.jsonl', { lang: 'ru', subset: 'code' }],
    ['fr_chat_agnostic.jsonl', { lang: 'fr', subset: 'chat_agnostic' }],
    ['en_chat_specific.meta.jsonl', undefined],
    ['manifest.json', undefined],
    ['en_poetry.jsonl', undefined],
  ])('%s', (name, expected) => {
    expect(parseDatasetFileName(name)).toEqual(expected);
  });
});

function fileStats(file: string, lang: string, subset: Subset, lines: DatasetLine[], bare: Record<string, string> = {}): FileStats {
  const acc = emptyAccumulator();
  for (const line of lines) addDialogue(acc, line, { lang, subset, countTokens, stripDocument: strip, bareQuestion: bare[line.id] });
  return { file, lang, subset, acc };
}

describe('statistics of a hand-made output', () => {
  const enSpecific: DatasetLine[] = [
    { id: 'en_chat_specific_0', data: ['Document:\nRome is the capital of Italy.\n\nQuestion: Why is Rome famous?', 'Because of its long history.', 'Who founded it?', 'Legend says Romulus did.'] },
    { id: 'en_chat_specific_1', data: ['Document:\nThe Nile flows north.\n\nQuestion: Where does the Nile flow?', 'It flows north into the Mediterranean.'] },
  ];
  const enMath: DatasetLine[] = [{ id: 'en_math_0', data: ['What is 2+2?', 'The answer is: 4'] }];
  const zhSpecific: DatasetLine[] = [
    { id: 'zh_chat_specific_0', data: ['文档：长城很长。\n问题：长城有多长？', '长城全长两万多公里。'] },
  ];
  const zhCode: DatasetLine[] = [
    { id: 'zh_code_0', data: ['写一个加法函数。', 'def add(a, b):\n    return a + b'] },
    // a trailing question without an answer is not a turn
    { id: 'zh_code_1', data: ['写一个减法函数。', 'def sub(a, b):\n    return a - b', '再写一个乘法函数。'] },
  ];
  // the sidecar's bare question wins over the template
  const bare = { en_chat_specific_1: 'Where does it flow?' };
  const files = [
    fileStats('en_chat_specific.jsonl', 'en', 'chat_specific', enSpecific, bare),
    fileStats('en_math.jsonl', 'en', 'math', enMath),
    fileStats('zh_chat_specific.jsonl', 'zh', 'chat_specific', zhSpecific),
    fileStats('zh_code.jsonl', 'zh', 'code', zhCode),
  ];
  const stats = summarizeStats(files);

  const enQ = tok('Why is Rome famous?') + tok('Who founded it?') + tok('Where does it flow?');
  const enA = tok('Because of its long history.') + tok('Legend says Romulus did.') + tok('It flows north into the Mediterranean.');
  const mathQ = tok('What is 2+2?');
  const mathA = tok('The answer is: 4');
  const zhQ = tok('长城有多长？') + tok('写一个加法函数。') + tok('写一个减法函数。');
  const zhA = tok('长城全长两万多公里。') + tok('def add(a, b):\n    return a + b') + tok('def sub(a, b):\n    return a - b');

  it('counts dialogues, turns and tokens per file, without the document', () => {
    expect(files[0].acc).toMatchObject({ dialogues: 2, turns: 3, questionTokens: enQ, answerTokens: enA, unstrippedFirstTurns: 0 });
    expect(files[3].acc).toMatchObject({ dialogues: 2, turns: 2, unpairedQuestions: 1 });
  });

  it('rolls up per language and overall', () => {
    expect(stats.languages).toEqual(['en', 'zh']);
    expect(stats.byLanguage.en).toMatchObject({ dialogues: 3, turns: 4, questionTokens: enQ + mathQ, answerTokens: enA + mathA });
    expect(stats.byLanguage.zh).toMatchObject({ dialogues: 3, turns: 3, questionTokens: zhQ, answerTokens: zhA });
    const turns = 7;
    const rows = table1(stats);
    expect(rows[0]).toEqual({
      name: 'UltraLink (this build)',
      dialogues: 6,
      turns,
      question: (enQ + mathQ + zhQ) / turns,
      answer: (enA + mathA + zhA) / turns,
      turn: (enQ + mathQ + zhQ + enA + mathA + zhA) / turns,
    });
    expect(rows.map((r) => r.name)).toEqual(['UltraLink (this build)', 'Lang.Spec. Chat', 'Math', 'Code']);
    expect(rows[1]).toMatchObject({ dialogues: 3, turns: 4, question: (enQ + tok('长城有多长？')) / 4 });
  });

  it('builds Table 2 with the all-languages and w/o En rows', () => {
    const rows = table2(stats);
    expect(rows.map((r) => [r.name, r.counts, r.total])).toEqual([
      ['En', { chat_specific: 2, chat_agnostic: 0, math: 1, code: 0 }, 3],
      ['Zh', { chat_specific: 1, chat_agnostic: 0, math: 0, code: 2 }, 3],
      ['UltraLink', { chat_specific: 3, chat_agnostic: 0, math: 1, code: 2 }, 6],
      ['w/o En', { chat_specific: 1, chat_agnostic: 0, math: 0, code: 2 }, 3],
    ]);
  });

  it('counts first turns it could not strip', () => {
    const acc = emptyAccumulator();
    addDialogue(acc, enSpecific[0], { lang: 'en', subset: 'chat_specific', countTokens });
    expect(acc.unstrippedFirstTurns).toBe(1);
    expect(acc.questionTokens).toBe(tok(enSpecific[0].data[0]) + tok('Who founded it?'));
  });

  it('merges by pure addition (streaming over shards equals one pass)', () => {
    const a = fileStats('x', 'en', 'chat_specific', enSpecific.slice(0, 1)).acc;
    const b = fileStats('x', 'en', 'chat_specific', enSpecific.slice(1), bare).acc;
    expect(mergeAccumulators(a, b)).toEqual(files[0].acc);
    expect(averages(emptyAccumulator())).toEqual({ question: 0, answer: 0, turn: 0 });
  });

  it('prints aligned text tables', () => {
    for (const text of [renderTable1(table1(stats)), renderTable2(table2(stats))]) {
      const lines = text.split('\n');
      expect(new Set(lines.map((l) => l.length)).size).toBe(1);
      expect(lines.length).toBeGreaterThan(2);
    }
    expect(renderTable2(table2(stats))).toMatch(/\| w\/o En\s+\|\s+1 \|/);
  });
});
