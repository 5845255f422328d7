/**
 * Knowledge preparation for one selected page (paper §2.1.1, Figure 3 upper half):
 * clean → language id → t2s if configured → length filter → segment, one StepStats per step.
 */
import { z } from 'zod';
import type { Doc, Segment } from '../records';
import { countVerdict, drop, emptyStats, KEEP, type Funnel, type StepStats, type Verdict } from '../stats';
import { cleanWikitext } from '../wiki/wikitext';
import { filterByLanguage, type LangId } from './lang-id';
import { filterByLength } from './length-filter';
import { convertScript } from './script';
import { segmentDocument } from './segment';

/** Funnel step names of this stage, in pipeline order. */
export const KNOWLEDGE_STEPS = ['clean', 'language', 'script', 'length', 'segment'] as const;

/** Options of the knowledge stage; token bounds are the paper's (documents 1K–10K, segments 1K–2K). */
export const knowledgeOptionsSchema = z.object({
  /** Language code stamped on docs and segments. */
  lang: z.string().min(1),
  /** The lid.176 label expected for this language (config `fasttextLabel`). */
  fasttextLabel: z.string().min(1),
  /** Script conversion from the language's config entry. */
  scriptConversion: z.enum(['none', 't2s']).default('none'),
  minDocTokens: z.number().int().nonnegative().default(1000),
  maxDocTokens: z.number().int().positive().default(10_000),
  minSegmentTokens: z.number().int().nonnegative().default(1000),
  maxSegmentTokens: z.number().int().positive().default(2000),
  /** Lowest lid.176 probability accepted for the expected label (not given by the paper). */
  minLangScore: z.number().min(0).max(1).default(0.5),
  /** Per-page budget for wikitext cleaning; an overrun counts as `wiki_parse_failure`. */
  parseTimeBudgetMs: z.number().positive().default(2000),
});

/** Resolved knowledge-stage options. */
export type KnowledgeOptions = z.infer<typeof knowledgeOptionsSchema>;

/** A page as the dump reader hands it over (wikitext). */
export interface RawPage {
  ns: number;
  pageId: number;
  revisionId?: number;
  title: string;
  redirect?: boolean;
  text: string;
}

/** Injected tools: the loaded language identifier and the token counter. */
export interface KnowledgeTools {
  langId: LangId;
  /** cl100k_base count; past `limit` it may stop early and return any number > limit. */
  countTokens: (text: string, limit?: number) => number;
}

/** Outcome for one page: the kept document with its segments, or the step and reason that dropped it. */
export type PreparedDocument =
  | { kept: true; doc: Doc; segments: Segment[] }
  | { kept: false; step: (typeof KNOWLEDGE_STEPS)[number]; reason: string };

/** A funnel with this stage's steps zeroed, in order. */
export function emptyKnowledgeFunnel(): Funnel {
  return Object.fromEntries(KNOWLEDGE_STEPS.map((step) => [step, emptyStats()]));
}

/** Runs one page through the stage, updating `funnel` (mutates; missing steps are created). */
export function prepareDocument(page: RawPage, opts: KnowledgeOptions, tools: KnowledgeTools, funnel: Funnel): PreparedDocument {
  for (const step of KNOWLEDGE_STEPS) funnel[step] ??= emptyStats();
  const timed = <T>(stats: StepStats, run: () => T): T => {
    const started = performance.now();
    try {
      return run();
    } finally {
      stats.ms += performance.now() - started;
    }
  };

  const cleaned = timed(funnel.clean, () => cleanWikitext(page.text, { timeBudgetMs: opts.parseTimeBudgetMs }));
  if (!cleaned.ok) {
    countVerdict(funnel.clean, drop(cleaned.reason));
    return { kept: false, step: 'clean', reason: cleaned.reason };
  }
  countVerdict(funnel.clean, KEEP);
  let doc: Doc = { lang: opts.lang, pageId: page.pageId, revisionId: page.revisionId, title: page.title, text: cleaned.text };

  const language = timed(funnel.language, () =>
    filterByLanguage(doc, { lang: opts.fasttextLabel, langId: tools.langId, minScore: opts.minLangScore }),
  );
  if (!countVerdict(funnel.language, language)) return dropped('language', language);

  doc = timed(funnel.script, () => ({ ...doc, text: convertScript(doc.text, opts.scriptConversion) }));
  countVerdict(funnel.script, KEEP);

  const length = timed(funnel.length, () => {
    // Over max is all the filter needs to know, so an over-long article is not counted to its end.
    doc.tokens = tools.countTokens(doc.text, opts.maxDocTokens);
    return filterByLength(doc, { minTokens: opts.minDocTokens, maxTokens: opts.maxDocTokens });
  });
  if (!countVerdict(funnel.length, length)) return dropped('length', length);
  funnel.length.tokens += doc.tokens ?? 0;

  const segments = timed(funnel.segment, () =>
    segmentDocument(doc, { minTokens: opts.minSegmentTokens, maxTokens: opts.maxSegmentTokens }),
  );
  countVerdict(funnel.segment, KEEP);
  funnel.segment.tokens += segments.reduce((sum, s) => sum + s.tokens, 0);
  return { kept: true, doc, segments };
}

function dropped(step: (typeof KNOWLEDGE_STEPS)[number], verdict: Verdict): PreparedDocument {
  return { kept: false, step, reason: verdict.keep ? '' : verdict.reason };
}
