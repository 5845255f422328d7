/**
 * Automated quality report over every output file (§2.5 made measurable): language match,
 * traditional characters in zh, empty / truncated / short turns, exact and near duplicates
 * (MinHash + LSH), length percentiles, and a seeded sample for manual reading.
 */
import { z } from 'zod';
import { randomInt, rngFor, stableHash, type Rng } from '../random';
import type { DatasetLine } from '../records';
import { questionText, type CountTokens, type DatasetFileName, type StripDocument } from './stats';
import { looksTruncated } from '../text/ending';

/** Thresholds and knobs of the report; files breaking a threshold are listed in `failures`. */
export const qualityOptionsSchema = z.object({
  /** A dataset file with fewer records fails: a file the build was asked for that came out empty is a failure, never a pass. */
  minRecords: z.number().int().min(0).default(1),
  /** Minimum share of checked turns whose language matches the file's. */
  minLangMatchShare: z.number().min(0).max(1).default(0.95),
  /** Maximum share of zh turns holding a traditional-only character (t2s should leave none). */
  maxTraditionalTurnShare: z.number().min(0).max(1).default(0.001),
  maxEmptyTurnShare: z.number().min(0).max(1).default(0),
  maxTruncatedTurnShare: z.number().min(0).max(1).default(0.01),
  maxShortTurnShare: z.number().min(0).max(1).default(0.02),
  maxExactDuplicateRate: z.number().min(0).max(1).default(0.001),
  maxNearDuplicateRate: z.number().min(0).max(1).default(0.02),
  /** Answers under this many tokens are suspiciously short. */
  minAnswerTokens: z.number().int().min(0).default(4),
  /** Questions under this many tokens are suspiciously short. */
  minQuestionTokens: z.number().int().min(0).default(2),
  /** A message left with fewer letters than this after removing code and formulas is not language-checked. */
  minLangIdLetters: z.number().int().min(1).default(15),
  /** A message whose code/formula share of characters exceeds this is code-heavy and not language-checked. */
  maxCodeShareForLangId: z.number().min(0).max(1).default(0.5),
  /** MinHash signature length; must be bands × rows. */
  minhashPermutations: z.number().int().min(1).default(64),
  lshBands: z.number().int().min(1).default(8),
  /** Word (or CJK character) n-gram size of the answer shingles. */
  shingleSize: z.number().int().min(1).default(3),
  /** Estimated Jaccard similarity from which two dialogues are near-duplicates. */
  nearDuplicateJaccard: z.number().min(0).max(1).default(0.8),
  /** Dialogues rendered into the markdown sample. */
  sampleSize: z.number().int().min(0).default(20),
  seed: z.union([z.number(), z.string()]).default(0),
  /** Example ids kept per defect kind and file. */
  maxExamples: z.number().int().min(0).default(10),
  percentiles: z.array(z.number().min(0).max(100)).default([50, 90, 99]),
}).refine((o) => o.minhashPermutations % o.lshBands === 0, { message: 'minhashPermutations must be a multiple of lshBands' });

/** Resolved quality options. */
export type QualityOptions = z.output<typeof qualityOptionsSchema>;

/** A language guess from fastText lid.176 (ISO 639-1 where it has one). */
export interface LangGuess {
  lang: string;
  score: number;
}

/** Language identifier, injected (fastText lid.176 in production). */
export type LangId = (text: string) => LangGuess | Promise<LangGuess>;

/** Number of traditional-only Chinese characters in a text, injected (src/core/text/script.ts in production). */
export type CountTraditionalOnlyChars = (text: string) => number;

/** What the report needs besides options. */
export interface QualityDeps {
  countTokens: CountTokens;
  langId: LangId;
  countTraditionalOnlyChars: CountTraditionalOnlyChars;
  stripDocument?: StripDocument;
}

/** Counted defect with a few example ids (`id#turn`). */
export interface DefectCount {
  turns: number;
  examples: string[];
}

/** Percentiles of a length distribution, in tokens, plus mean and max. */
export interface Distribution {
  count: number;
  mean: number;
  max: number;
  percentiles: Record<string, number>;
}

/** The report of one file. */
export interface FileQuality extends DatasetFileName {
  file: string;
  dialogues: number;
  turns: number;
  language: { checked: number; matched: number; skipped: number; share: number; detected: Record<string, number>; examples: string[] };
  traditional: DefectCount & { checked: boolean };
  empty: DefectCount;
  truncated: DefectCount;
  short: DefectCount;
  duplicates: { exact: number; near: number; exactRate: number; nearRate: number; examples: Array<{ id: string; of: string; kind: 'exact' | 'near'; jaccard: number }> };
  lengths: { question: Distribution; answer: Distribution };
}

/** A threshold a file breaks. */
export interface QualityFailure {
  file: string;
  threshold: keyof QualityOptions;
  value: number;
  limit: number;
}

/** The whole report. */
export interface QualityReport {
  files: FileQuality[];
  failures: QualityFailure[];
  sample: SampledDialogue[];
  options: QualityOptions;
}

// --- text heuristics -------------------------------------------------------------------------

const CODE_OR_MATH = [
  /```[\s\S]*?(```|$)/g, // fenced code, possibly unterminated
  /`[^`\n]+`/g,
  /\$\$[\s\S]*?\$\$/g,
  /\\\[[\s\S]*?\\\]/g,
  /\\\([\s\S]*?\\\)/g,
  /\$[^$\n]+\$/g,
  /https?:\/\/\S+/g,
];

/** The prose left once code, formulas and URLs are removed, and the share of characters removed. */
export function proseOf(text: string): { prose: string; codeShare: number; letters: number } {
  let prose = text;
  for (const re of CODE_OR_MATH) prose = prose.replace(re, ' ');
  // unfenced code: lines that are mostly symbols (indentation, braces, operators) go too
  prose = prose
    .split('\n')
    .filter((l) => {
      const t = l.trim();
      if (!t) return false;
      const symbols = (t.match(/[{}()[\];=<>_/\\|#*+&%^~]/g) ?? []).length;
      return symbols / t.length < 0.15;
    })
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  const total = text.replace(/\s+/g, '').length;
  const kept = prose.replace(/\s+/g, '').length;
  const letters = (prose.match(/\p{L}/gu) ?? []).length;
  return { prose, codeShare: total === 0 ? 0 : 1 - kept / total, letters };
}

function sameLanguage(detected: string, expected: string): boolean {
  const norm = (l: string) => l.toLowerCase().split(/[-_]/)[0];
  return norm(detected) === norm(expected);
}

// --- MinHash + LSH ---------------------------------------------------------------------------

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Word n-gram shingles; CJK, kana and Hangul characters count as words (no spaces to split on). */
export function shingles(text: string, size: number): Set<string> {
  const words = text
    .toLowerCase()
    .replace(/([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}])/gu, ' $1 ')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  const out = new Set<string>();
  if (words.length < size) {
    if (words.length) out.add(words.join(' '));
    return out;
  }
  for (let i = 0; i + size <= words.length; i++) out.add(words.slice(i, i + size).join(' '));
  return out;
}

/** A seeded MinHash: one 32-bit mixing salt per permutation. */
export function minhasher(permutations: number, seed: number | string): (set: Set<string>) => Uint32Array {
  const rng = rngFor(seed, 'quality-minhash');
  const salts = Uint32Array.from({ length: permutations }, () => Math.floor(rng() * 2 ** 32));
  return (set) => {
    const sig = new Uint32Array(permutations).fill(0xffffffff);
    for (const sh of set) {
      const h = fnv1a(sh);
      for (let i = 0; i < permutations; i++) {
        const v = fmix32(h ^ salts[i]);
        if (v < sig[i]) sig[i] = v;
      }
    }
    return sig;
  };
}

/** Share of equal signature positions: the MinHash estimate of Jaccard similarity. */
export function estimateJaccard(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same += 1;
  return same / a.length;
}

// --- percentiles ---------------------------------------------------------------------------

/** Nearest-rank percentiles, mean and max of a list of lengths. */
export function distribution(values: number[], percentiles: number[]): Distribution {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const out: Record<string, number> = {};
  for (const p of percentiles) out[`p${p}`] = n === 0 ? 0 : sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))];
  const mean = n === 0 ? 0 : values.reduce((s, v) => s + v, 0) / n;
  return { count: n, mean, max: n === 0 ? 0 : sorted[n - 1], percentiles: out };
}

// --- per-file accumulator ------------------------------------------------------------------

/** Per-line extras from the chat_specific sidecar. */
export interface LineExtras {
  bareQuestion?: string;
  truncatedTurns?: number[];
}

/** Streaming quality checks of one file: `add` each line, then `finish`. */
export class FileQualityAccumulator {
  private readonly opts: QualityOptions;
  private dialogues = 0;
  private turns = 0;
  private readonly lang = { checked: 0, matched: 0, skipped: 0, detected: {} as Record<string, number>, examples: [] as string[] };
  private readonly trad: DefectCount = { turns: 0, examples: [] };
  private readonly empty: DefectCount = { turns: 0, examples: [] };
  private readonly truncated: DefectCount = { turns: 0, examples: [] };
  private readonly short: DefectCount = { turns: 0, examples: [] };
  private readonly exactSeen = new Map<string, string>();
  private readonly dupExamples: FileQuality['duplicates']['examples'] = [];
  private exact = 0;
  private near = 0;
  private readonly signatures: Uint32Array[] = [];
  private readonly sigIds: string[] = [];
  private readonly buckets = new Map<string, number[]>();
  private readonly minhash: (set: Set<string>) => Uint32Array;
  private readonly qLengths: number[] = [];
  private readonly aLengths: number[] = [];
  private readonly isZh: boolean;

  constructor(
    readonly file: string,
    readonly name: DatasetFileName,
    private readonly deps: QualityDeps,
    options: Partial<QualityOptions> = {},
  ) {
    this.opts = qualityOptionsSchema.parse(options);
    this.minhash = minhasher(this.opts.minhashPermutations, this.opts.seed);
    this.isZh = sameLanguage(name.lang, 'zh');
  }

  private note(defect: DefectCount, example: string): void {
    defect.turns += 1;
    if (defect.examples.length < this.opts.maxExamples) defect.examples.push(example);
  }

  /** Checks one message's language; undefined when it is skipped (code-heavy or too little prose). */
  private async checkLanguage(text: string): Promise<string | undefined> {
    const { prose, codeShare, letters } = proseOf(text);
    if (codeShare > this.opts.maxCodeShareForLangId || letters < this.opts.minLangIdLetters) return undefined;
    return (await this.deps.langId(prose)).lang;
  }

  /** Adds one dialogue. */
  async add(line: DatasetLine, extras: LineExtras = {}): Promise<void> {
    this.dialogues += 1;
    const { subset, lang } = this.name;
    const nTurns = Math.floor(line.data.length / 2);
    this.turns += nTurns;
    if (line.data.length % 2 === 1) this.note(this.truncated, `${line.id}#${nTurns} (unanswered)`);
    const truncatedTurns = new Set(extras.truncatedTurns ?? []);
    for (let t = 0; t < nTurns; t++) {
      const ref = `${line.id}#${t}`;
      const q = questionText(line, t, { lang, subset, bareQuestion: extras.bareQuestion, stripDocument: this.deps.stripDocument }).text;
      const a = line.data[2 * t + 1];
      const qTokens = this.deps.countTokens(q);
      const aTokens = this.deps.countTokens(a);
      this.qLengths.push(qTokens);
      this.aLengths.push(aTokens);

      if (!q.trim() || !a.trim()) this.note(this.empty, ref);
      else if (qTokens < this.opts.minQuestionTokens || aTokens < this.opts.minAnswerTokens) this.note(this.short, ref);
      if (a.trim() && (truncatedTurns.has(t) || looksTruncated(a))) this.note(this.truncated, ref);

      const detected = [await this.checkLanguage(q), await this.checkLanguage(a)].filter((d): d is string => d !== undefined);
      if (detected.length === 0) this.lang.skipped += 1;
      else {
        this.lang.checked += 1;
        const wrong = detected.find((d) => !sameLanguage(d, lang));
        if (wrong === undefined) this.lang.matched += 1;
        else {
          this.lang.detected[wrong] = (this.lang.detected[wrong] ?? 0) + 1;
          if (this.lang.examples.length < this.opts.maxExamples) this.lang.examples.push(`${ref} (${wrong})`);
        }
      }
      if (this.isZh && this.deps.countTraditionalOnlyChars(q) + this.deps.countTraditionalOnlyChars(a) > 0) this.note(this.trad, ref);
    }
    this.checkDuplicates(line);
  }

  private checkDuplicates(line: DatasetLine): void {
    const key = stableHash(JSON.stringify(line.data));
    const first = this.exactSeen.get(key);
    if (first !== undefined) {
      this.exact += 1;
      if (this.dupExamples.length < this.opts.maxExamples) this.dupExamples.push({ id: line.id, of: first, kind: 'exact', jaccard: 1 });
      return; // an exact copy is not counted again as a near-duplicate
    }
    this.exactSeen.set(key, line.id);
    // chat_specific answers share their document's facts by design; shingling answers alone still
    // separates dialogues, since each answer is generated anew (§2.1.2)
    const answers = line.data.filter((_, i) => i % 2 === 1).join('\n');
    const set = shingles(answers, this.opts.shingleSize);
    if (set.size === 0) return;
    const sig = this.minhash(set);
    const rows = this.opts.minhashPermutations / this.opts.lshBands;
    const keys: string[] = [];
    let best: { of: string; jaccard: number } | undefined;
    for (let b = 0; b < this.opts.lshBands; b++) {
      const bandKey = `${b}:${Array.from(sig.subarray(b * rows, (b + 1) * rows)).join(',')}`;
      keys.push(bandKey);
      for (const idx of this.buckets.get(bandKey) ?? []) {
        const j = estimateJaccard(sig, this.signatures[idx]);
        if (j >= this.opts.nearDuplicateJaccard && (!best || j > best.jaccard)) best = { of: this.sigIds[idx], jaccard: j };
      }
    }
    if (best) {
      this.near += 1;
      if (this.dupExamples.length < this.opts.maxExamples) this.dupExamples.push({ id: line.id, of: best.of, kind: 'near', jaccard: best.jaccard });
    }
    const idx = this.signatures.push(sig) - 1;
    this.sigIds.push(line.id);
    for (const k of keys) {
      const list = this.buckets.get(k);
      if (!list) this.buckets.set(k, [idx]);
      else if (list.length < 32) list.push(idx); // cap: a huge bucket would make the check quadratic
    }
  }

  /** The file's report. */
  finish(): FileQuality {
    const rate = (n: number, d: number) => (d === 0 ? 0 : n / d);
    return {
      file: this.file,
      ...this.name,
      dialogues: this.dialogues,
      turns: this.turns,
      language: { ...this.lang, share: this.lang.checked === 0 ? 1 : this.lang.matched / this.lang.checked },
      traditional: { ...this.trad, checked: this.isZh },
      empty: this.empty,
      truncated: this.truncated,
      short: this.short,
      duplicates: { exact: this.exact, near: this.near, exactRate: rate(this.exact, this.dialogues), nearRate: rate(this.near, this.dialogues), examples: this.dupExamples },
      lengths: { question: distribution(this.qLengths, this.opts.percentiles), answer: distribution(this.aLengths, this.opts.percentiles) },
    };
  }
}

/** The thresholds a file breaks. */
export function fileFailures(q: FileQuality, options: Partial<QualityOptions> = {}): QualityFailure[] {
  const o = qualityOptionsSchema.parse(options);
  const share = (n: number) => (q.turns === 0 ? 0 : n / q.turns);
  const checks: Array<[keyof QualityOptions, number, number, 'min' | 'max']> = [
    ['minRecords', q.dialogues, o.minRecords, 'min'],
    ['minLangMatchShare', q.language.share, o.minLangMatchShare, 'min'],
    ['maxTraditionalTurnShare', share(q.traditional.turns), o.maxTraditionalTurnShare, 'max'],
    ['maxEmptyTurnShare', share(q.empty.turns), o.maxEmptyTurnShare, 'max'],
    ['maxTruncatedTurnShare', share(q.truncated.turns), o.maxTruncatedTurnShare, 'max'],
    ['maxShortTurnShare', share(q.short.turns), o.maxShortTurnShare, 'max'],
    ['maxExactDuplicateRate', q.duplicates.exactRate, o.maxExactDuplicateRate, 'max'],
    ['maxNearDuplicateRate', q.duplicates.nearRate, o.maxNearDuplicateRate, 'max'],
  ];
  return checks
    .filter(([, value, limit, kind]) => (kind === 'min' ? value < limit : value > limit))
    .map(([threshold, value, limit]) => ({ file: q.file, threshold, value, limit }));
}

// --- sample --------------------------------------------------------------------------------

/** A dialogue picked for manual reading. */
export interface SampledDialogue {
  file: string;
  line: DatasetLine;
}

/** Seeded reservoir sample across all files (algorithm R): same seed and input order, same sample. */
export class DialogueSampler {
  private readonly rng: Rng;
  private seen = 0;
  private readonly picked: SampledDialogue[] = [];

  constructor(private readonly size: number, seed: number | string) {
    this.rng = rngFor(seed, 'quality-sample');
  }

  /** Offers one dialogue. */
  offer(file: string, line: DatasetLine): void {
    this.seen += 1;
    if (this.picked.length < this.size) this.picked.push({ file, line });
    else {
      const j = randomInt(this.rng, this.seen);
      if (j < this.size) this.picked[j] = { file, line };
    }
  }

  /** The sample, ordered by file then id for reading. */
  result(): SampledDialogue[] {
    return [...this.picked].sort((a, b) => a.file.localeCompare(b.file) || a.line.id.localeCompare(b.line.id, 'en', { numeric: true }));
  }
}

function quoteBlock(text: string): string {
  return text.split('\n').map((l) => `> ${l}`).join('\n');
}

/** The sample as markdown: one section per dialogue, each message quoted under its speaker. */
export function renderSampleMarkdown(sample: SampledDialogue[], seed: number | string): string {
  const parts = [`# Quality sample`, '', `${sample.length} dialogues drawn at random (seed ${JSON.stringify(seed)}) for manual reading.`, ''];
  for (const { file, line } of sample) {
    parts.push(`## ${line.id}`, '', `File: \`${file}\`, ${Math.floor(line.data.length / 2)} turn(s).`, '');
    line.data.forEach((text, i) => {
      parts.push(i % 2 === 0 ? `**User (turn ${i / 2 + 1})**` : `**Assistant (turn ${(i - 1) / 2 + 1})**`, '', quoteBlock(text), '');
    });
  }
  return parts.join('\n');
}

/** Assembles the report from the files' results and the sample. */
export function qualityReport(files: FileQuality[], sample: SampledDialogue[], options: Partial<QualityOptions> = {}): QualityReport {
  const opts = qualityOptionsSchema.parse(options);
  const sorted = [...files].sort((a, b) => a.file.localeCompare(b.file));
  return { files: sorted, failures: sorted.flatMap((f) => fileFailures(f, opts)), sample, options: opts };
}
