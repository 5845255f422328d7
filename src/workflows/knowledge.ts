/**
 * Knowledge preparation of one language (paper §2.1.1, Figure 3 upper half): extract, language id, t2s (zh),
 * length filter, segment. A multistream dump fans out over byte-range groups; a plain dump streams in one
 * resumable activity. Runs as a child of the language build, or alone (`ultralink extract`).
 */
import type { Config } from '../config';
import type { FlushPolicy } from '../activities/knowledge';
import { mergeFunnels, type Funnel } from '../core/stats';
import { workActivities } from './proxies';

export interface KnowledgeInput {
  buildId: string;
  lang: string;
  config: Config;
  /** Test-only: smaller parts, so a killed worker leaves a heartbeated cursor to resume from. */
  flush?: FlushPolicy;
}

/** How one extraction activity ended: its attempt, and the parts it found written (> 0 = resumed). */
export interface ExtractSummary {
  group?: number;
  attempt: number;
  resumedParts: number;
  parts: number;
  pagesRead: number;
}

export interface KnowledgeResult {
  manifestKey: string;
  segments: number;
  pagesRead: number;
  funnel: Funnel;
  extracts: ExtractSummary[];
}

/** Turns a language's Wikipedia dump into the segments that ground its dialogues. */
export async function knowledgeWorkflow({ buildId, lang, config, flush }: KnowledgeInput): Promise<KnowledgeResult> {
  const work = workActivities(config);
  // Activities read the config from storage; a build saved it already (a no-op then), a lone extract has not.
  await work.saveBuildConfig({ buildId, config });
  const groups = await work.planDumpRanges({ buildId, lang });
  const extracted =
    groups.length > 0
      ? await Promise.all(groups.map((group, index) => work.extractPages({ buildId, lang, group: { ...group, index }, flush })))
      : [await work.extractPages({ buildId, lang, flush })];
  const parts = extracted.flatMap((e) => e.parts);
  const funnel = extracted.reduce<Funnel>((f, e) => mergeFunnels(f, e.funnel), {});
  const { manifestKey, total } = await work.writeSegmentsManifest({ buildId, lang, parts, funnel });
  const extracts = extracted.map((e, i) => ({ group: groups.length > 0 ? i : undefined, attempt: e.attempt, resumedParts: e.resumedParts, parts: e.parts.length, pagesRead: e.pagesRead }));
  return { manifestKey, segments: total, pagesRead: extracted.reduce((n, e) => n + e.pagesRead, 0), funnel, extracts };
}
