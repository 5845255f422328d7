/**
 * Paper-style statistics of a finished dataset (§3, Tables 1–2), computed streaming:
 * one accumulator per file, fed line by line, merged by pure addition.
 */
import type { DatasetLine } from '../records';

/** The four UltraLink subsets, in the paper's column order (Table 2). */
export const SUBSETS = ['chat_specific', 'chat_agnostic', 'math', 'code'] as const;

/** One of the four UltraLink subsets. */
export type Subset = (typeof SUBSETS)[number];

/** The (language, subset) a dataset file holds, parsed from `{lang}_{subset}.jsonl`. */
export interface DatasetFileName {
  lang: string;
  subset: Subset;
}

const FILE_NAME = new RegExp(`^([a-z]{2,3}(?:-[A-Za-z]+)?)_(${SUBSETS.join('|')})\\.jsonl$`);

/** Parses a dataset file's base name; undefined for anything else (sidecars, manifests, README). */
export function parseDatasetFileName(name: string): DatasetFileName | undefined {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const m = FILE_NAME.exec(base);
  return m ? { lang: m[1], subset: m[2] as Subset } : undefined;
}

/** `{lang}_{subset}.jsonl`. */
export function datasetFileName(lang: string, subset: Subset): string {
  return `${lang}_${subset}.jsonl`;
}

/** `{lang}_chat_specific.meta.jsonl`: the sidecar beside a chat_specific file. */
export function sidecarFileName(lang: string): string {
  return `${lang}_chat_specific.meta.jsonl`;
}

/** cl100k_base token counter, injected so one shared tiktoken encoder serves every caller. */
export type CountTokens = (text: string) => number;

/** Returns the bare question of a chat_specific first turn (the grounding document and its framing removed). */
export type StripDocument = (firstTurn: string, lang: string) => string;

/**
 * One line of `{lang}_chat_specific.meta.jsonl`, keyed by the dialogue id.
 * `question` is the first question without the document; `truncatedTurns` lists 0-based turn
 * indexes whose answer the generator saw cut (finish_reason = length).
 */
export interface SidecarEntry {
  id: string;
  question?: string;
  document?: string;
  truncatedTurns?: number[];
}

/** Streaming counters of one file (or any merge of files). Averages derive from the sums. */
export interface LengthAccumulator {
  dialogues: number;
  turns: number;
  questionTokens: number;
  answerTokens: number;
  /** A trailing question with no answer: not a turn, counted so it is not silently lost. */
  unpairedQuestions: number;
  /** chat_specific first turns whose document could not be removed (no sidecar, no stripper). */
  unstrippedFirstTurns: number;
}

/** Zeroed counters. */
export function emptyAccumulator(): LengthAccumulator {
  return { dialogues: 0, turns: 0, questionTokens: 0, answerTokens: 0, unpairedQuestions: 0, unstrippedFirstTurns: 0 };
}

/** Pure addition of two accumulators. */
export function mergeAccumulators(a: LengthAccumulator, b: LengthAccumulator): LengthAccumulator {
  return {
    dialogues: a.dialogues + b.dialogues,
    turns: a.turns + b.turns,
    questionTokens: a.questionTokens + b.questionTokens,
    answerTokens: a.answerTokens + b.answerTokens,
    unpairedQuestions: a.unpairedQuestions + b.unpairedQuestions,
    unstrippedFirstTurns: a.unstrippedFirstTurns + b.unstrippedFirstTurns,
  };
}

/** How to read one dialogue: its file's language and subset, and how to find the bare first question. */
export interface DialogueContext extends DatasetFileName {
  countTokens: CountTokens;
  stripDocument?: StripDocument;
  /** The sidecar's bare question for this dialogue; wins over `stripDocument`. */
  bareQuestion?: string;
}

/**
 * The questions of a dialogue as the statistics see them: in chat_specific the first one loses its
 * grounding document (§3: "the question token length does not include the document").
 */
export function questionText(line: DatasetLine, turn: number, ctx: Omit<DialogueContext, 'countTokens'>): { text: string; stripped: boolean } {
  const raw = line.data[2 * turn];
  if (turn !== 0 || ctx.subset !== 'chat_specific') return { text: raw, stripped: true };
  if (ctx.bareQuestion !== undefined) return { text: ctx.bareQuestion, stripped: true };
  if (ctx.stripDocument) return { text: ctx.stripDocument(raw, ctx.lang), stripped: true };
  return { text: raw, stripped: false };
}

/** Adds one dialogue to `acc` (mutates). A turn is one question + answer pair. */
export function addDialogue(acc: LengthAccumulator, line: DatasetLine, ctx: DialogueContext): void {
  acc.dialogues += 1;
  const turns = Math.floor(line.data.length / 2);
  acc.turns += turns;
  if (line.data.length % 2 === 1) acc.unpairedQuestions += 1;
  for (let t = 0; t < turns; t++) {
    const q = questionText(line, t, ctx);
    if (!q.stripped) acc.unstrippedFirstTurns += 1;
    acc.questionTokens += ctx.countTokens(q.text);
    acc.answerTokens += ctx.countTokens(line.data[2 * t + 1]);
  }
}

/** Average lengths in tokens per turn (0 when there are no turns). */
export interface AverageLengths {
  question: number;
  answer: number;
  turn: number;
}

/** Average question / answer / turn length of an accumulator. */
export function averages(acc: LengthAccumulator): AverageLengths {
  if (acc.turns === 0) return { question: 0, answer: 0, turn: 0 };
  const question = acc.questionTokens / acc.turns;
  const answer = acc.answerTokens / acc.turns;
  return { question, answer, turn: question + answer };
}

/** Counters of one file with its identity. */
export interface FileStats extends DatasetFileName {
  file: string;
  acc: LengthAccumulator;
}

/** Statistics of a whole dataset: per file, per language, per subset, overall. */
export interface DatasetStats {
  files: FileStats[];
  byLanguage: Record<string, LengthAccumulator>;
  bySubset: Record<Subset, LengthAccumulator>;
  overall: LengthAccumulator;
  /** Languages in report order: English first (the paper's Table 2), then as first seen. */
  languages: string[];
}

/** Rolls per-file counters up into per-language, per-subset and overall sums. */
export function summarizeStats(files: FileStats[]): DatasetStats {
  const byLanguage: Record<string, LengthAccumulator> = {};
  const bySubset = Object.fromEntries(SUBSETS.map((s) => [s, emptyAccumulator()])) as Record<Subset, LengthAccumulator>;
  let overall = emptyAccumulator();
  const sorted = [...files].sort((a, b) => a.file.localeCompare(b.file));
  for (const f of sorted) {
    byLanguage[f.lang] = mergeAccumulators(byLanguage[f.lang] ?? emptyAccumulator(), f.acc);
    bySubset[f.subset] = mergeAccumulators(bySubset[f.subset], f.acc);
    overall = mergeAccumulators(overall, f.acc);
  }
  const langs = Object.keys(byLanguage);
  const languages = [...langs.filter((l) => l === 'en'), ...langs.filter((l) => l !== 'en')];
  return { files: sorted, byLanguage, bySubset, overall, languages };
}

/** One row of Table 1. */
export interface Table1Row {
  name: string;
  dialogues: number;
  turns: number;
  question: number;
  answer: number;
  turn: number;
}

/** Paper's subset labels (Table 2 header: language-specific chat vs language-agnostic chat, math, code). */
export const SUBSET_LABELS: Record<Subset, string> = {
  chat_specific: 'Lang.Spec. Chat',
  chat_agnostic: 'Lang.Agno. Chat',
  math: 'Math',
  code: 'Code',
};

/** Table 1: the whole build, then one row per subset that has dialogues. */
export function table1(stats: DatasetStats, name = 'UltraLink (this build)'): Table1Row[] {
  const row = (label: string, acc: LengthAccumulator): Table1Row => ({ name: label, dialogues: acc.dialogues, turns: acc.turns, ...averages(acc) });
  const rows = [row(name, stats.overall)];
  for (const s of SUBSETS) if (stats.bySubset[s].dialogues > 0) rows.push(row(SUBSET_LABELS[s], stats.bySubset[s]));
  return rows;
}

/** One row of Table 2: dialogues per subset and their total. */
export interface Table2Row {
  name: string;
  counts: Record<Subset, number>;
  total: number;
}

/** Table 2: dialogues per language × subset, then the all-languages row and the "w/o En" row. */
export function table2(stats: DatasetStats, name = 'UltraLink'): Table2Row[] {
  const counts = (langs: string[]): Record<Subset, number> => {
    const out = Object.fromEntries(SUBSETS.map((s) => [s, 0])) as Record<Subset, number>;
    for (const f of stats.files) if (langs.includes(f.lang)) out[f.subset] += f.acc.dialogues;
    return out;
  };
  const row = (label: string, langs: string[]): Table2Row => {
    const c = counts(langs);
    return { name: label, counts: c, total: SUBSETS.reduce((n, s) => n + c[s], 0) };
  };
  const rows = stats.languages.map((l) => row(capitalize(l), [l]));
  rows.push(row(name, stats.languages));
  rows.push(row('w/o En', stats.languages.filter((l) => l !== 'en')));
  return rows;
}

function capitalize(lang: string): string {
  return lang.charAt(0).toUpperCase() + lang.slice(1);
}

/** Renders rows as a markdown pipe table padded to aligned columns (readable raw and rendered). */
export function renderTable(headers: string[], rows: string[][], align: Array<'left' | 'right'>): string {
  const widths = headers.map((h, i) => Math.max(h.length, 3, ...rows.map((r) => r[i].length)));
  const pad = (cell: string, i: number) => (align[i] === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i]));
  const line = (cells: string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (align[i] === 'right' ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** Integer with thousands separators (exact counts: a build is rarely large enough for the paper's "K"). */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Table 1 as printable text. */
export function renderTable1(rows: Table1Row[]): string {
  return renderTable(
    ['Dataset', 'Dialogues', 'Turns', 'Avg question', 'Avg answer', 'Avg turn'],
    rows.map((r) => [r.name, formatCount(r.dialogues), formatCount(r.turns), r.question.toFixed(2), r.answer.toFixed(2), r.turn.toFixed(2)]),
    ['left', 'right', 'right', 'right', 'right', 'right'],
  );
}

/** Table 2 as printable text. */
export function renderTable2(rows: Table2Row[]): string {
  return renderTable(
    ['Lang.', ...SUBSETS.map((s) => SUBSET_LABELS[s]), 'Total'],
    rows.map((r) => [r.name, ...SUBSETS.map((s) => formatCount(r.counts[s])), formatCount(r.total)]),
    ['left', 'right', 'right', 'right', 'right', 'right'],
  );
}

/** Both tables with captions, as `tables.md` and the `stats` command print them. */
export function renderTables(stats: DatasetStats): string {
  const notes: string[] = [];
  if (stats.overall.unstrippedFirstTurns > 0) {
    notes.push(`Note: ${stats.overall.unstrippedFirstTurns} chat_specific first questions still include their document (no sidecar question, no stripDocument); question lengths are overstated.`);
  }
  return [
    'Table 1: dialogues, turns and average lengths (cl100k_base tokens; question length excludes the grounding document).',
    '',
    renderTable1(table1(stats)),
    '',
    'Table 2: number of dialogues per language and component.',
    '',
    renderTable2(table2(stats)),
    ...(notes.length ? ['', ...notes] : []),
    '',
  ].join('\n');
}
