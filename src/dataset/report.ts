/**
 * One pass over a finished dataset: paper statistics, Figure 13, the quality report, and the
 * training-framework exports. Reads local dirs or Storage prefixes; writes the same.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { figure13Data, renderFigure13Svg } from '../core/export/chart';
import { exportedTurns, exportLine, type DocumentSplitter, type ExportFormat } from '../core/export/formats';
import {
  DialogueSampler,
  FileQualityAccumulator,
  qualityOptionsSchema,
  qualityReport,
  renderSampleMarkdown,
  type CountTraditionalOnlyChars,
  type LangId,
  type QualityOptions,
  type QualityReport,
} from '../core/export/quality';
import {
  addDialogue,
  emptyAccumulator,
  renderTables,
  summarizeStats,
  table1,
  table2,
  type CountTokens,
  type DatasetStats,
  type FileStats,
  type StripDocument,
  type Table1Row,
  type Table2Row,
} from '../core/export/stats';
import { loadLangId } from '../core/text/lang-id';
import { countTraditionalOnlyChars as sharedCountTraditional } from '../core/text/script';
import { countTokens as sharedCountTokens } from '../core/text/tokens';
import type { Storage } from '../storage/storage';
import { listDatasetFiles, readDatasetLines, readSidecar, type DatasetSource, type ReadCounters } from './read';

/** Where report or export files go: a local directory, or a prefix inside a Storage. */
export type OutputTarget = string | { storage: Storage; prefix: string };

/** Options of `computeDatasetReport`; every function defaults to the production one. */
export interface DatasetReportOptions {
  countTokens?: CountTokens;
  langId?: LangId;
  countTraditionalOnlyChars?: CountTraditionalOnlyChars;
  /** Removes the grounding document from chat_specific first turns when no sidecar question exists. */
  stripDocument?: StripDocument;
  quality?: Partial<QualityOptions>;
}

/** Everything the `stats` command prints and the build writes. */
export interface DatasetReport {
  stats: DatasetStats;
  tables: { table1: Table1Row[]; table2: Table2Row[]; text: string };
  chartSvg: string;
  quality: QualityReport;
  /** Malformed lines skipped, per file. */
  malformed: Record<string, number>;
}

/** The production language identifier: the shared fastText lid.176 loader, adapted to the report's shape. */
export async function defaultLangId(): Promise<LangId> {
  const lid = await loadLangId();
  return (text) => lid.detect(text);
}

/** Reads every file once, feeding statistics, quality checks and the sample; then renders tables and chart. */
export async function computeDatasetReport(source: DatasetSource, opts: DatasetReportOptions = {}): Promise<DatasetReport> {
  const qopts = qualityOptionsSchema.parse(opts.quality ?? {});
  const countTokens = opts.countTokens ?? sharedCountTokens;
  const langId = opts.langId ?? (await defaultLangId());
  const countTraditionalOnlyChars = opts.countTraditionalOnlyChars ?? sharedCountTraditional;
  const sampler = new DialogueSampler(qopts.sampleSize, qopts.seed);
  const fileStats: FileStats[] = [];
  const fileQuality = [];
  const malformed: Record<string, number> = {};

  for (const ref of await listDatasetFiles(source)) {
    const sidecar = ref.subset === 'chat_specific' ? await readSidecar(source, ref.lang) : new Map();
    const acc = emptyAccumulator();
    const quality = new FileQualityAccumulator(ref.file, { lang: ref.lang, subset: ref.subset }, { countTokens, langId, countTraditionalOnlyChars, stripDocument: opts.stripDocument }, qopts);
    const counters: ReadCounters = { lines: 0, malformed: 0 };
    for await (const line of readDatasetLines(source, ref.file, counters)) {
      const extra = sidecar.get(line.id);
      addDialogue(acc, line, { lang: ref.lang, subset: ref.subset, countTokens, stripDocument: opts.stripDocument, bareQuestion: extra?.question });
      await quality.add(line, { bareQuestion: extra?.question, truncatedTurns: extra?.truncatedTurns });
      sampler.offer(ref.file, line);
    }
    malformed[ref.file] = counters.malformed;
    fileStats.push({ file: ref.file, lang: ref.lang, subset: ref.subset, acc });
    fileQuality.push(quality.finish());
  }

  const stats = summarizeStats(fileStats);
  return {
    stats,
    tables: { table1: table1(stats), table2: table2(stats), text: renderTables(stats) },
    chartSvg: await renderFigure13Svg(figure13Data(stats)),
    quality: qualityReport(fileQuality, sampler.result(), qopts),
    malformed,
  };
}

async function putText(target: OutputTarget, name: string, body: string): Promise<void> {
  if (typeof target === 'string') {
    await mkdir(target, { recursive: true });
    await writeFile(path.join(target, name), body);
  } else {
    await target.storage.put(target.prefix ? `${target.prefix.replace(/\/+$/, '')}/${name}` : name, body);
  }
}

async function putLines(target: OutputTarget, name: string, lines: AsyncIterable<string>): Promise<void> {
  const body = Readable.from((async function* () {
    for await (const l of lines) yield `${l}\n`;
  })());
  if (typeof target === 'string') {
    await mkdir(target, { recursive: true });
    await pipeline(body, createWriteStream(path.join(target, name)));
  } else {
    await target.storage.putStream(target.prefix ? `${target.prefix.replace(/\/+$/, '')}/${name}` : name, body);
  }
}

/** File names `writeDatasetReport` produces. */
export const REPORT_FILES = ['stats.json', 'tables.md', 'figure13.svg', 'quality.json', 'quality-sample.md'] as const;

/** Writes stats.json, tables.md, figure13.svg, quality.json and quality-sample.md. */
export async function writeDatasetReport(report: DatasetReport, target: OutputTarget): Promise<void> {
  const { sample, ...quality } = report.quality;
  await putText(target, 'stats.json', `${JSON.stringify({ ...report.stats, table1: report.tables.table1, table2: report.tables.table2, malformed: report.malformed }, null, 2)}\n`);
  await putText(target, 'tables.md', report.tables.text);
  await putText(target, 'figure13.svg', report.chartSvg);
  await putText(target, 'quality.json', `${JSON.stringify({ ...quality, sampleIds: sample.map((s) => s.line.id) }, null, 2)}\n`);
  await putText(target, 'quality-sample.md', renderSampleMarkdown(sample, report.quality.options.seed));
}

/** Options of `exportDataset`. */
export interface ExportOptions {
  format: ExportFormat;
  /** Put the grounding document of chat_specific dialogues in a system turn (needs the sidecar or `split`). */
  documentAsSystem?: boolean;
  split?: DocumentSplitter;
}

/** Per exported file: dialogues and turns written, malformed source lines skipped, documents moved. */
export interface ExportFileResult {
  file: string;
  dialogues: number;
  turns: number;
  malformed: number;
  documentsMoved: number;
}

/** Writes every dataset file in the chosen format under the same name `{lang}_{subset}.jsonl`. */
export async function exportDataset(source: DatasetSource, target: OutputTarget, opts: ExportOptions): Promise<ExportFileResult[]> {
  const results: ExportFileResult[] = [];
  for (const ref of await listDatasetFiles(source)) {
    const sidecar = ref.subset === 'chat_specific' && opts.documentAsSystem ? await readSidecar(source, ref.lang) : new Map();
    const counters: ReadCounters = { lines: 0, malformed: 0 };
    const result: ExportFileResult = { file: ref.file, dialogues: 0, turns: 0, malformed: 0, documentsMoved: 0 };
    async function* lines(): AsyncGenerator<string> {
      for await (const line of readDatasetLines(source, ref.file, counters)) {
        const meta = sidecar.get(line.id);
        const fromSidecar = meta?.question !== undefined && meta.document !== undefined ? { question: meta.question, document: meta.document } : undefined;
        const record = exportLine(line, opts.format, { lang: ref.lang, subset: ref.subset, documentAsSystem: opts.documentAsSystem, split: opts.split, sidecar: fromSidecar });
        result.dialogues += 1;
        result.turns += exportedTurns(record);
        const first = 'conversations' in record ? record.conversations[0] : record.messages[0];
        if (first && ('from' in first ? first.from : first.role) === 'system') result.documentsMoved += 1;
        yield JSON.stringify(record);
      }
    }
    await putLines(target, ref.file, lines());
    result.malformed = counters.malformed;
    results.push(result);
  }
  return results;
}
