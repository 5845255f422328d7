import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetLine } from '../../src/core/records';
import { listDatasetFiles, readDatasetLines, readSidecar, type ReadCounters } from '../../src/dataset/read';
import { computeDatasetReport, exportDataset, REPORT_FILES, writeDatasetReport } from '../../src/dataset/report';
import { stripDocumentWith, templateSplitter } from '../../src/core/export/formats';
import type { Storage } from '../../src/storage/storage';

/** Minimal in-memory Storage: enough to read a dataset from a prefix. */
function memoryStorage(objects: Map<string, string>): Storage {
  const buf = (k: string) => (objects.has(k) ? Buffer.from(objects.get(k)!) : undefined);
  return {
    location: 'mem://test',
    get: async (k) => buf(k),
    getText: async (k) => objects.get(k),
    getRange: async (k, s, e) => buf(k)!.subarray(s, e),
    size: async (k) => buf(k)?.length,
    put: async (k, b) => void objects.set(k, b.toString()),
    putStream: async (k, s) => {
      const chunks: Buffer[] = [];
      for await (const c of s) chunks.push(Buffer.from(c));
      objects.set(k, Buffer.concat(chunks).toString());
    },
    putIfAbsent: async (k, b) => (objects.has(k) ? false : (objects.set(k, b.toString()), true)),
    exists: async (k) => objects.has(k),
    list: async (p) => [...objects.keys()].filter((k) => k.startsWith(p)).sort(),
    readStream: async (k) => Readable.from([buf(k)!]),
    delete: async (k) => void objects.delete(k),
  };
}

const TEMPLATE = 'Document:\n{document}\n\nQuestion: {question}';
const en: DatasetLine[] = [
  { id: 'en_chat_specific_0', data: ['Document:\nRome is the capital of Italy and was founded, says legend, in 753 BC.\n\nQuestion: Why is Rome called the eternal city?', 'Romans believed their city would last forever, and it has remained important for nearly three thousand years.', 'Who founded it?', 'According to legend, the twins Romulus and Remus founded the city.'] },
  { id: 'en_chat_specific_1', data: ['Document:\nThe Nile is a major river in north-eastern Africa.\n\nQuestion: Where does the Nile flow?', 'The Nile flows north through Egypt and empties into the Mediterranean Sea.'] },
];
const zh: DatasetLine[] = [
  { id: 'zh_math_0', data: ['小明有三个苹果，又买了两个，现在一共有几个苹果？', '小明原来有三个苹果，又买了两个，所以一共有五个苹果。答案是：5'] },
  { id: 'zh_math_1', data: ['一个长方形长四米、宽三米，它的面积是多少平方米？', '长方形的面积等于长乘以宽，四乘以三等于十二，所以面积是十二平方米。'] },
];
const jsonl = (lines: DatasetLine[]) => lines.map((l) => JSON.stringify(l)).join('\n') + '\n';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ultralink-report-'));
  // one malformed line and one line with a non-string turn: both skipped and counted
  await writeFile(path.join(dir, 'en_chat_specific.jsonl'), jsonl(en) + '{"id": "broken"\n{"id":"x","data":[1,2]}\n');
  await writeFile(path.join(dir, 'en_chat_specific.meta.jsonl'), JSON.stringify({ id: 'en_chat_specific_1', question: 'Where does the Nile flow?', document: 'The Nile is a major river in north-eastern Africa.' }) + '\nnot json\n');
  await writeFile(path.join(dir, 'zh_math.jsonl'), jsonl(zh));
  await writeFile(path.join(dir, 'manifest.json'), '{}');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('reading a dataset', () => {
  it('lists dataset files only, and counts malformed lines', async () => {
    expect(await listDatasetFiles(dir)).toEqual([
      { file: 'en_chat_specific.jsonl', lang: 'en', subset: 'chat_specific' },
      { file: 'zh_math.jsonl', lang: 'zh', subset: 'math' },
    ]);
    const counters: ReadCounters = { lines: 0, malformed: 0 };
    const ids: string[] = [];
    for await (const l of readDatasetLines(dir, 'en_chat_specific.jsonl', counters)) ids.push(l.id);
    expect(ids).toEqual(['en_chat_specific_0', 'en_chat_specific_1']);
    expect(counters).toEqual({ lines: 4, malformed: 2 });
    expect([...(await readSidecar(dir, 'en')).keys()]).toEqual(['en_chat_specific_1']);
  });

  it('reads the same from a Storage prefix', async () => {
    const objects = new Map([
      ['runs/r1/data/en_chat_specific.jsonl', jsonl(en)],
      ['runs/r1/data/zh_math.jsonl', jsonl(zh)],
      ['runs/r1/data/sub/fr_math.jsonl', jsonl(zh)],
    ]);
    const source = { storage: memoryStorage(objects), prefix: 'runs/r1/data' };
    expect((await listDatasetFiles(source)).map((f) => f.file)).toEqual(['en_chat_specific.jsonl', 'zh_math.jsonl']);
    const lines: DatasetLine[] = [];
    for await (const l of readDatasetLines(source, 'zh_math.jsonl')) lines.push(l);
    expect(lines).toEqual(zh);
  });
});

describe('dataset report (tiktoken, fastText, OpenCC)', () => {
  it('computes stats, tables, chart and quality, and writes the five files', async () => {
    const report = await computeDatasetReport(dir, { stripDocument: stripDocumentWith(templateSplitter({ en: TEMPLATE })), quality: { sampleSize: 2, seed: 3 } });
    expect(report.malformed).toEqual({ 'en_chat_specific.jsonl': 2, 'zh_math.jsonl': 0 });
    expect(report.stats.overall).toMatchObject({ dialogues: 4, turns: 5, unstrippedFirstTurns: 0 });
    expect(report.tables.text).toContain('w/o En');
    expect((report.chartSvg.match(/aria-roledescription="bar"/g) ?? []).length).toBe(4);
    expect(report.quality.failures).toEqual([]);
    expect(report.quality.files.map((f) => [f.file, f.language.share])).toEqual([
      ['en_chat_specific.jsonl', 1],
      ['zh_math.jsonl', 1],
    ]);
    expect(report.quality.sample).toHaveLength(2);

    const out = path.join(dir, 'report');
    await writeDatasetReport(report, out);
    expect((await readdir(out)).sort()).toEqual([...REPORT_FILES].sort());
    const stats = JSON.parse(await readFile(path.join(out, 'stats.json'), 'utf8'));
    expect(stats.overall.turns).toBe(5);
    expect((await readFile(path.join(out, 'figure13.svg'), 'utf8')).startsWith('<svg')).toBe(true);
    expect(JSON.parse(await readFile(path.join(out, 'quality.json'), 'utf8')).sampleIds).toHaveLength(2);
  });
});

describe('export round trip', () => {
  it.each([
    ['sharegpt', false],
    ['messages', false],
    ['sharegpt', true],
    ['messages', true],
  ] as const)('%s (document as system: %s): files parse and turn counts match the source', async (format, documentAsSystem) => {
    const out = path.join(dir, `export-${format}-${documentAsSystem}`);
    const results = await exportDataset(dir, out, { format, documentAsSystem, split: templateSplitter({ en: TEMPLATE }) });
    expect(results.map((r) => [r.file, r.dialogues, r.turns, r.malformed])).toEqual([
      ['en_chat_specific.jsonl', 2, 3, 2],
      ['zh_math.jsonl', 2, 2, 0],
    ]);
    expect(results[0].documentsMoved).toBe(documentAsSystem ? 2 : 0);
    for (const [file, source] of [['en_chat_specific.jsonl', en], ['zh_math.jsonl', zh]] as const) {
      const records = (await readFile(path.join(out, file), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      expect(records.map((r) => r.id)).toEqual(source.map((l) => l.id));
      records.forEach((r, i) => {
        const msgs: Array<{ role?: string; from?: string; content?: string; value?: string }> = format === 'sharegpt' ? r.conversations : r.messages;
        const speakers = msgs.map((m) => m.role ?? m.from);
        const answers = speakers.filter((s) => s === 'assistant' || s === 'gpt').length;
        expect(answers).toBe(source[i].data.length / 2);
        expect(speakers[0]).toBe(documentAsSystem && file.includes('chat_specific') ? 'system' : format === 'sharegpt' ? 'human' : 'user');
        // every answer survives verbatim
        expect(msgs.filter((_, j) => speakers[j] === 'assistant' || speakers[j] === 'gpt').map((m) => m.content ?? m.value)).toEqual(source[i].data.filter((_, j) => j % 2 === 1));
      });
    }
  });
});
