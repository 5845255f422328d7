/**
 * The closing lines of a build for its user: per language, how many records each file got of how many asked, and
 * why the rest were dropped. A small model can fill one file and leave another empty; the counts alone would
 * hide which gate did it.
 */
import type { Funnel, StepStats } from '../stats';

/** What the summary reads of a stage's result (the build's StageSummary). */
export interface StageCounts {
  lang: string;
  stage: string;
  quota?: number;
  funnel: Funnel;
}

/** Stages whose files a language gets, in the paper's Table 1/2 order. */
const SUBSETS = ['chat_specific', 'chat_agnostic', 'math', 'code'] as const;

/** One `{lang}_{subset}` file: records written, records asked, and the drop reasons of its stage, most frequent first. */
export interface SubsetSummary {
  subset: (typeof SUBSETS)[number];
  written: number;
  asked?: number;
  drops: Array<[reason: string, count: number]>;
}

/**
 * Per language, the files of the dataset with their stage's drops. `files` is the assembly's base name → records
 * map (`zh_math.jsonl` → 1); a file with no stage behind it (English pass-through) has no quota and no drops.
 */
export function summariseLanguages(files: Record<string, number>, stages: readonly StageCounts[]): Map<string, SubsetSummary[]> {
  const out = new Map<string, SubsetSummary[]>();
  for (const [file, written] of Object.entries(files)) {
    const m = /^(.+)_(chat_specific|chat_agnostic|math|code)\.jsonl$/.exec(file);
    if (!m) continue;
    const [, lang, subset] = m as unknown as [string, string, SubsetSummary['subset']];
    const stage = stages.find((s) => s.lang === lang && s.stage === subset);
    const row: SubsetSummary = { subset, written, asked: stage?.quota, drops: stage ? dropReasons(Object.values(stage.funnel)) : [] };
    out.set(lang, [...(out.get(lang) ?? []), row].sort((a, b) => SUBSETS.indexOf(a.subset) - SUBSETS.indexOf(b.subset)));
  }
  return out;
}

/** Drop reasons summed over a stage's steps, most frequent first (ties by name, so the lines are stable). */
export function dropReasons(steps: readonly StepStats[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const step of steps) for (const [reason, n] of Object.entries(step.byReason)) counts.set(reason, (counts.get(reason) ?? 0) + n);
  return [...counts].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** Terminal lines: one per language, e.g. `zh  chat_specific 2/2 · math 0/1 (translate_wrong_language ×2)`. */
export function renderLanguageSummary(summary: Map<string, SubsetSummary[]>, topReasons = 3): string[] {
  const lines: string[] = [];
  for (const [lang, rows] of [...summary].sort((a, b) => a[0].localeCompare(b[0]))) {
    const kept = rows.reduce((n, r) => n + r.written, 0);
    const cells = rows.map((r) => {
      const count = r.asked === undefined ? `${r.written}` : `${r.written}/${r.asked}`;
      const why = r.drops.slice(0, topReasons).map(([reason, n]) => `${reason} ×${n}`);
      return `${r.subset} ${count}${why.length > 0 ? ` (dropped: ${why.join(', ')})` : ''}`;
    });
    lines.push(`${lang.padEnd(3)} ${String(kept).padStart(5)} records  ${cells.join(' · ')}`);
  }
  return lines;
}
