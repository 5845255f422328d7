import { get_encoding } from 'tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripDocumentWith, templateSplitter } from '../../../src/core/export/formats';
import {
  DialogueSampler,
  distribution,
  estimateJaccard,
  FileQualityAccumulator,
  fileFailures,
  minhasher,
  proseOf,
  qualityOptionsSchema,
  qualityReport,
  renderSampleMarkdown,
  shingles,
  type CountTraditionalOnlyChars,
  type FileQuality,
  type LangId,
} from '../../../src/core/export/quality';
import { looksTruncated } from '../../../src/core/text/ending';
import type { DatasetFileName } from '../../../src/core/export/stats';
import type { DatasetLine } from '../../../src/core/records';
import { countTraditionalOnlyChars } from '../../../src/core/text/script';
import { defaultLangId } from '../../../src/dataset/report';

const enc = get_encoding('cl100k_base');
afterAll(() => enc.free());
const countTokens = (s: string) => enc.encode(s).length;
const stripDocument = stripDocumentWith(templateSplitter({ zh: '请阅读以下文档：\n{document}\n\n问题：{question}' }));

/** A clean English file plus one exact duplicate dialogue (planted). */
const EN: DatasetLine[] = [
  { id: 'en_chat_agnostic_0', data: ['How do plants make their food?', 'Plants use sunlight, water and carbon dioxide to produce sugar through photosynthesis in their leaves.', 'Why are leaves green?', 'Leaves contain chlorophyll, a pigment that reflects green light while absorbing red and blue light.'] },
  { id: 'en_chat_agnostic_1', data: ['What causes the tides in the ocean?', 'The gravitational pull of the Moon, and to a lesser extent the Sun, raises bulges of water that travel around the Earth.'] },
  { id: 'en_chat_agnostic_2', data: ['Explain how a bicycle stays upright.', 'A moving bicycle stays upright mostly because the rider steers into the direction of a fall, and the geometry of the front fork helps.'] },
  { id: 'en_chat_agnostic_3', data: ['Write a Python function that adds two numbers.', 'Here is one:\n\n```python\ndef add(a, b):\n    """Return the sum of a and b."""\n    return a + b\n```'] },
  { id: 'en_chat_agnostic_4', data: ['How do plants make their food?', 'Plants use sunlight, water and carbon dioxide to produce sugar through photosynthesis in their leaves.', 'Why are leaves green?', 'Leaves contain chlorophyll, a pigment that reflects green light while absorbing red and blue light.'] },
];

const doc = (d: string, q: string) => `请阅读以下文档：\n${d}\n\n问题：${q}`;
/** Simplified-Chinese dialogues with three planted defects: an English answer, traditional characters, a cut answer. */
const ZH: DatasetLine[] = [
  { id: 'zh_chat_specific_0', data: [doc('长城是中国古代修建的防御工程，全长两万多公里。', '长城为什么要修建得这么长？'), '因为古代北方边境很长，为了抵御游牧民族的侵扰，历代王朝不断修建和连接城墙，所以长城越修越长。', '今天的长城对我们有什么意义？', '今天的长城是重要的文化遗产，也吸引了大量游客，成为中华民族的象征之一。'] },
  { id: 'zh_chat_specific_1', data: [doc('黄河是中国第二长河，被称为母亲河。', '黄河为什么被称为母亲河？'), 'The Yellow River is called the mother river because early Chinese civilization developed along its fertile banks.'] },
  { id: 'zh_chat_specific_2', data: [doc('故宫位于北京，是明清两代的皇宫。', '故宫有哪些著名的建筑？'), '故宫最著名的建築包括太和殿、中和殿和保和殿，這些宮殿都非常壯觀，吸引了世界各地的游客。'] },
  { id: 'zh_chat_specific_3', data: [doc('大熊猫主要生活在四川的山区。', '大熊猫平时吃什么食物？'), '大熊猫主要以竹子为食，它们每天要花十几个小时来'] },
  { id: 'zh_chat_specific_4', data: [doc('西湖位于杭州，以秀丽的湖光山色闻名。', '西湖为什么这么有名？'), '西湖风景优美，历史上许多诗人在这里留下了作品，这些诗词让西湖的名声传遍了全国。'] },
];

let langId: LangId;
let countTrad: CountTraditionalOnlyChars;
beforeAll(async () => {
  langId = await defaultLangId();
  countTrad = countTraditionalOnlyChars;
});

async function check(file: string, name: DatasetFileName, lines: DatasetLine[], deps: { langId?: LangId } = {}): Promise<FileQuality> {
  const acc = new FileQualityAccumulator(file, name, { countTokens, langId: deps.langId ?? langId, countTraditionalOnlyChars: countTrad, stripDocument });
  for (const line of lines) await acc.add(line);
  return acc.finish();
}

describe('quality report on planted defects (real fastText lid.176, shared OpenCC counter)', () => {
  it('flags each planted defect exactly once', async () => {
    const en = await check('en_chat_agnostic.jsonl', { lang: 'en', subset: 'chat_agnostic' }, EN);
    const zh = await check('zh_chat_specific.jsonl', { lang: 'zh', subset: 'chat_specific' }, ZH);

    expect(en.duplicates).toMatchObject({ exact: 1, near: 0, exactRate: 1 / 5 });
    expect(en.duplicates.examples).toEqual([{ id: 'en_chat_agnostic_4', of: 'en_chat_agnostic_0', kind: 'exact', jaccard: 1 }]);
    expect(zh.duplicates).toMatchObject({ exact: 0, near: 0 });

    expect(en.language).toMatchObject({ matched: en.language.checked });
    expect(zh.language.checked - zh.language.matched).toBe(1);
    expect(zh.language.examples).toEqual(['zh_chat_specific_1#0 (en)']);

    expect(zh.traditional).toEqual({ turns: 1, examples: ['zh_chat_specific_2#0'], checked: true });
    expect(en.traditional).toMatchObject({ turns: 0, checked: false });

    expect(zh.truncated).toEqual({ turns: 1, examples: ['zh_chat_specific_3#0'] });
    expect(en.truncated.turns).toBe(0);

    for (const q of [en, zh]) expect([q.empty.turns, q.short.turns]).toEqual([0, 0]);
  });

  it('skips code-heavy messages from the language check, and says so', async () => {
    const seen: string[] = [];
    const spy: LangId = (text) => {
      seen.push(text);
      return { lang: 'en', score: 1 };
    };
    const q = await check('en_code.jsonl', { lang: 'en', subset: 'code' }, [EN[3]], { langId: spy });
    // the question is prose and is checked; the answer is mostly a code block and is not
    expect(seen).toEqual(['Write a Python function that adds two numbers.']);
    expect(q.language).toMatchObject({ checked: 1, matched: 1, skipped: 0 });
  });

  it('names the files and thresholds that fail', async () => {
    const en = await check('en_chat_agnostic.jsonl', { lang: 'en', subset: 'chat_agnostic' }, EN);
    const zh = await check('zh_chat_specific.jsonl', { lang: 'zh', subset: 'chat_specific' }, ZH);
    const report = qualityReport([zh, en], [], { maxNearDuplicateRate: 0.5 });
    expect(report.failures.map((f) => `${f.file}:${f.threshold}`).sort()).toEqual([
      'en_chat_agnostic.jsonl:maxExactDuplicateRate',
      'zh_chat_specific.jsonl:maxTraditionalTurnShare',
      'zh_chat_specific.jsonl:maxTruncatedTurnShare',
      'zh_chat_specific.jsonl:minLangMatchShare',
    ]);
    // loosened thresholds: nothing fails
    expect(fileFailures(zh, { minLangMatchShare: 0.5, maxTraditionalTurnShare: 0.5, maxTruncatedTurnShare: 0.5 })).toEqual([]);
  });

  it('fails a file that came out empty, however clean its (absent) turns are', async () => {
    const empty = await check('fr_math.jsonl', { lang: 'fr', subset: 'math' }, []);
    expect(fileFailures(empty)).toEqual([{ file: 'fr_math.jsonl', threshold: 'minRecords', value: 0, limit: 1 }]);
    expect(fileFailures(empty, { minRecords: 0 })).toEqual([]);
  });

  it('counts no traditional characters in simplified text', () => {
    expect(countTrad('今天的长城是重要的文化遗产，也吸引了大量游客。故宫有哪些著名的建筑？后来发现干净的头发。')).toBe(0);
    expect(countTrad('這些宮殿')).toBe(2);
  });
});

describe('turn checks', () => {
  it.each([
    ['ends with a period', 'It flows north.', false],
    ['ends with a Chinese full stop', '长城很长。', false],
    ['ends with a number (math)', 'The answer is: 42', false],
    ['ends with a code fence', 'Code:\n```js\nx()\n```', false],
    ['ends with a closing parenthesis', 'See the note (above)', false],
    ['ends mid-word', 'The river flows north into the', true],
    ['ends on a comma', 'First, the water rises,', true],
    ['ends on a colon', 'Here are the steps:', true],
    ['ends on a Han character', '它们每天要花十几个小时来', true],
    ['ends with bold markup after a letter', 'This is **important', true],
  ])('looksTruncated: %s', (_, text, expected) => {
    expect(looksTruncated(text)).toBe(expected);
  });

  it('proseOf removes code, formulas and URLs', () => {
    expect(proseOf('Solve $x^2 = 4$ then see https://example.org now').prose).toBe('Solve then see now');
    const p = proseOf('Intro:\n```\nint main() { return 0; }\n```');
    expect(p.prose).toBe('Intro:');
    expect(p.codeShare).toBeGreaterThan(0.5);
    expect(proseOf('x = f(a[i]) + g(b[j]);').prose).toBe('');
  });
});

describe('near duplicates', () => {
  it('MinHash estimates Jaccard and LSH finds a lightly edited copy', async () => {
    const text = 'the gravitational pull of the moon and to a lesser extent the sun raises bulges of water that travel around the earth every day and night along the coasts of every ocean';
    const hash = minhasher(64, 7);
    const a = shingles(text, 3);
    expect(estimateJaccard(hash(a), hash(a))).toBe(1);
    expect(estimateJaccard(hash(a), hash(shingles('completely different words about cooking pasta with tomatoes and basil in a pan', 3)))).toBeLessThan(0.2);
    expect(shingles('长城很长', 2)).toEqual(new Set(['长 城', '城 很', '很 长']));

    const lines: DatasetLine[] = [
      { id: 'en_chat_agnostic_0', data: ['What causes tides?', text] },
      { id: 'en_chat_agnostic_1', data: ['Why do tides happen?', `${text} too`] },
      { id: 'en_chat_agnostic_2', data: ['How do plants eat?', 'Plants use sunlight, water and carbon dioxide to make sugar in their leaves.'] },
    ];
    const stub: LangId = () => ({ lang: 'en', score: 1 });
    const q = await check('en_chat_agnostic.jsonl', { lang: 'en', subset: 'chat_agnostic' }, lines, { langId: stub });
    expect(q.duplicates).toMatchObject({ exact: 0, near: 1 });
    expect(q.duplicates.examples[0]).toMatchObject({ id: 'en_chat_agnostic_1', of: 'en_chat_agnostic_0', kind: 'near' });
  });
});

describe('distributions, sample, options', () => {
  it('computes nearest-rank percentiles', () => {
    expect(distribution([5, 1, 4, 2, 3, 6, 7, 8, 9, 10], [50, 90, 100])).toEqual({ count: 10, mean: 5.5, max: 10, percentiles: { p50: 5, p90: 9, p100: 10 } });
    expect(distribution([], [50])).toEqual({ count: 0, mean: 0, max: 0, percentiles: { p50: 0 } });
  });

  it('draws the same seeded sample for the same seed and renders it as markdown', () => {
    const draw = (seed: number) => {
      const s = new DialogueSampler(3, seed);
      for (let i = 0; i < 50; i++) s.offer('en_math.jsonl', { id: `en_math_${i}`, data: [`q${i}`, `a${i}`] });
      return s.result();
    };
    expect(draw(1).map((d) => d.line.id)).toEqual(draw(1).map((d) => d.line.id));
    expect(draw(1)).toHaveLength(3);
    const md = renderSampleMarkdown(draw(1), 1);
    expect(md.match(/^## en_math_\d+$/gm)).toHaveLength(3);
    expect(md).toContain('**Assistant (turn 1)**');
  });

  it('rejects inconsistent MinHash settings', () => {
    expect(() => qualityOptionsSchema.parse({ minhashPermutations: 10, lshBands: 3 })).toThrow();
    expect(qualityOptionsSchema.parse({}).minLangMatchShare).toBe(0.95);
  });
});
