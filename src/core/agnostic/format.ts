/** Output of the language-agnostic stage: UltraLink dataset lines and their audit sidecar (issue 4, output). */
import type { DatasetLine } from '../records';
import type { JudgeVerdict } from './judge';
import type { AgnosticSubset } from './readers';

/** Dataset type name of a subset in ids and file names. */
export function subsetType(subset: AgnosticSubset): 'chat_agnostic' | 'math' | 'code' {
  return subset === 'chat' ? 'chat_agnostic' : subset;
}

/** Output file name, e.g. `zh_chat_agnostic.jsonl`. */
export function outputFileName(lang: string, subset: AgnosticSubset): string {
  return `${lang}_${subsetType(subset)}.jsonl`;
}

/** Sidecar file name beside the output, e.g. `zh_math.sidecar.jsonl`. */
export function sidecarFileName(lang: string, subset: AgnosticSubset): string {
  return `${lang}_${subsetType(subset)}.sidecar.jsonl`;
}

/** Line id `{lang}_{chat_agnostic|math|code}_{n}`; n counts kept items in draw order from 0, so ids are contiguous. */
export function datasetLineId(lang: string, subset: AgnosticSubset, n: number): string {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`line number must be a non-negative integer: ${n}`);
  return `${lang}_${subsetType(subset)}_${n}`;
}

/** One dataset line: `{"id": …, "data": [q, a, q, a, …]}`. */
export function datasetLine(lang: string, subset: AgnosticSubset, n: number, turns: string[]): DatasetLine {
  return { id: datasetLineId(lang, subset, n), data: turns };
}

/** Audit record of one output line: where it came from, how it was judged and translated, and what it cost. */
export interface SidecarRecord {
  id: string;
  sourceId: string;
  /** Judge verdict per criterion (chat only). */
  verdict?: JudgeVerdict;
  /** Model of the LLM calls, or 'none' for English pass-through. */
  model: string;
  /** Prompt-pack versions used (filter and/or translate), e.g. 'en.filter.v1+zh.translate.v1'. */
  packVersion: string;
  promptTokens: number;
  completionTokens: number;
  /** LLM calls spent on this line, retries included. */
  calls: number;
}

/** Serialises a dataset line or sidecar record as one JSONL line (newline-terminated). */
export function jsonLine(value: DatasetLine | SidecarRecord): string {
  return `${JSON.stringify(value)}\n`;
}
