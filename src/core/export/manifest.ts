/**
 * The dataset manifest (paper §3's provenance): which models and prompt packs wrote the build, every stage's
 * funnel, LLM usage at the configured prices and timings, and the one-line story of a quality failure. Pure:
 * the assembly activity gathers the inputs and writes the result.
 */
import type { Config } from '../../config';
import { costUsd } from '../cost';
import type { Funnel } from '../stats';
import { summariseLanguages } from './build-summary';
import type { DatasetManifest } from './card';
import type { QualityFailure } from './quality';
import type { DatasetStats } from './stats';

/** Counts of one stage of one language, as the workflows gathered them. */
export interface StageSummary {
  lang: string;
  stage: string;
  quota?: number;
  status?: string;
  funnel: Funnel;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  ms: number;
}

/** Models and prompt-pack versions actually recorded in the assembled items. */
export interface Provenance {
  models: Record<string, Set<string>>;
  packs: Record<string, Set<string>>;
}

/** Records one value (a model, a pack version) under `key`; an absent value records nothing. */
export function noteProvenance(into: Record<string, Set<string>>, key: string, value: string | undefined): void {
  if (value) (into[key] ??= new Set()).add(value);
}

/** The summary line of a broken threshold; an empty file also names why its stage dropped what it drew. */
export function describeQualityFailure(f: QualityFailure, stages: readonly StageSummary[]): string {
  const line = `${f.file}: ${f.threshold} ${f.value} (limit ${f.limit})`;
  if (f.threshold !== 'minRecords') return line;
  const row = summariseLanguages({ [f.file]: f.value }, stages).values().next().value?.[0];
  const why = row?.drops.slice(0, 3).map(([reason, n]) => `${reason} ×${n}`) ?? [];
  return `${line}: ${why.length > 0 ? `dropped ${why.join(', ')}` : 'nothing was drawn'}`;
}

function joined(sets: Record<string, Set<string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(sets).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort().join(', ')]));
}

/** What the manifest is made of. */
export interface ManifestInput {
  config: Config;
  stages: readonly StageSummary[];
  startedAt: string;
  finishedAt: string;
  prov: Provenance;
  stats: DatasetStats;
  codeVersion: string;
  /** A short hash of the resolved config (sha256, by the caller: core has no crypto). */
  configHash: string;
  /** The licence of a model the project ships (a user's own model or an API has none we know). */
  licenceOf: (model: string) => string | undefined;
}

/** The manifest: provenance, counts read back from the written files, every stage's funnel, LLM usage and timings. */
export function buildManifest(input: ManifestInput): DatasetManifest {
  const { config, prov, stats, startedAt, finishedAt } = input;
  const funnels: Record<string, Funnel> = {};
  const llm: DatasetManifest['llm'] = {};
  const byStageMs: Record<string, number> = {};
  for (const s of input.stages) {
    const name = `${s.lang}/${s.stage}`;
    funnels[name] = s.funnel;
    const cost = costUsd(s.promptTokens, s.completionTokens, config.llm.pricing);
    llm[name] = { calls: s.calls, promptTokens: s.promptTokens, completionTokens: s.completionTokens, estimatedCostUsd: Math.round(cost * 1e4) / 1e4 };
    byStageMs[name] = Math.max(0, s.ms);
  }
  const licences: Record<string, string> = {};
  for (const model of Object.values(prov.models).flatMap((set) => [...set])) {
    const licence = input.licenceOf(model);
    if (licence) licences[model] = licence;
  }
  return {
    name: 'ultralink',
    createdAt: finishedAt,
    configHash: input.configHash,
    seed: config.seed,
    codeVersion: input.codeVersion,
    models: joined(prov.models),
    promptPacks: joined(prov.packs),
    llmEndpoint: config.llm.baseUrl === undefined ? 'embedded' : 'api',
    modelLicences: licences,
    languages: stats.languages.length ? stats.languages : Object.keys(config.languages),
    files: Object.fromEntries(stats.files.map((f) => [f.file, { dialogues: f.acc.dialogues, turns: f.acc.turns }])),
    funnels,
    llm,
    // workflow time and activity time come from different clocks: never report a negative duration
    timings: { startedAt, finishedAt, totalMs: Math.max(0, Date.parse(finishedAt) - Date.parse(startedAt)), byStageMs },
  };
}
