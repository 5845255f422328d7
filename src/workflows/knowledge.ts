/**
 * Knowledge preparation of one language (paper §2.1.1, Figure 3 upper half): extract, language id, t2s (zh),
 * length filter, segment. A multistream dump fans out over byte-range groups; a plain dump streams in one
 * resumable activity.
 */
import type { Config } from '../config';
import { mergeFunnels, type Funnel } from '../core/stats';
import { workActivities } from './proxies';

export interface KnowledgeInput {
  buildId: string;
  lang: string;
  config: Config;
}

export interface KnowledgeResult {
  manifestKey: string;
  segments: number;
  pagesRead: number;
  funnel: Funnel;
}

/** Turns a language's Wikipedia dump into the segments that ground its dialogues. */
export async function knowledgeWorkflow({ buildId, lang, config }: KnowledgeInput): Promise<KnowledgeResult> {
  const work = workActivities(config);
  const groups = await work.planDumpRanges({ buildId, lang });
  const extracted = groups.length > 0 ? await Promise.all(groups.map((group, index) => work.extractPages({ buildId, lang, group: { ...group, index } }))) : [await work.extractPages({ buildId, lang })];
  const parts = extracted.flatMap((e) => e.parts);
  const funnel = extracted.reduce<Funnel>((f, e) => mergeFunnels(f, e.funnel), {});
  const { manifestKey, total } = await work.writeSegmentsManifest({ buildId, lang, parts, funnel });
  return { manifestKey, segments: total, pagesRead: extracted.reduce((n, e) => n + e.pagesRead, 0), funnel };
}
