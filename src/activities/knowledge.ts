/**
 * Knowledge preparation activities (paper §2.1.1): dump → selected pages → clean text → language id →
 * t2s → length filter → segments. A multistream dump is split into byte-range groups processed in parallel;
 * a plain dump is one streaming activity. Either heartbeats a cursor (last page id, parts written, funnel)
 * and a retried attempt resumes from it instead of starting over.
 */
import { Context } from '@temporalio/activity';
import { groupRanges, streamRanges, type RangeGroup } from '../core/wiki/multistream-index';
import type { Segment } from '../core/records';
import { countVerdict, drop, emptyStats, KEEP, mergeFunnels, type Funnel } from '../core/stats';
import type { LangId } from '../core/text/lang-id';
import { emptyKnowledgeFunnel, prepareDocument, type KnowledgeOptions, type KnowledgeTools } from '../core/text/pipeline';
import { countTokens } from '../core/text/tokens';
import { dumpSize, readSelectedPages, readStreamOffsets, type DumpInput } from '../io/dump-source';
import { ConfigError } from '../config';
import { knowledgeStatsKey, segmentPartKey, segmentsManifestKey } from '../names';
import { putJson, putJsonl } from '../storage/json';
import type { BuildContext, ShardManifest } from './build-context';

/** When an attempt writes a part and advances its cursor; tests shrink it to force many resumable flushes. */
export interface FlushPolicy {
  /** Segments per output part. */
  segments?: number;
  /** Pages read after which the cursor advances even with no segments buffered (dumps of mostly stubs). */
  pages?: number;
}

export interface ExtractInput {
  buildId: string;
  lang: string;
  /** Byte range group of a multistream dump; absent = the whole dump, streamed. */
  group?: RangeGroup & { index: number };
  flush?: FlushPolicy;
}

export interface ExtractResult {
  parts: Array<{ key: string; count: number }>;
  funnel: Funnel;
  pagesRead: number;
  /** Input bytes this attempt consumed. */
  bytesRead: number;
  /** Attempt that finished, and how many parts it found already written (> 0 = it resumed from a heartbeat). */
  attempt: number;
  resumedParts: number;
}

/** Live reading figures, for the progress bar; not part of the resume state. */
export interface ExtractProgress {
  /** Pages read in this activity so far (flushed + pending). */
  pages: number;
  /** Input bytes consumed by this attempt (a resumed attempt re-scans from the range start). */
  bytesRead: number;
  totalBytes?: number;
}

/** Heartbeat details: the resume state as of the last flush, plus live progress. */
export interface ExtractCursor {
  /** Last page (or dropped page) whose outcome is in `funnel` and whose segments are in a written part. */
  lastPageId?: number;
  /** Segment count of every written part; part i's key is derived from i. */
  partCounts: number[];
  funnel: Funnel;
  pagesRead: number;
  progress?: ExtractProgress;
}

/** Segments per output part: small enough to flush often, large enough to keep object counts low. */
const SEGMENTS_PER_PART = 2_000;
/** Pages after which the cursor advances with whatever is buffered, bounding the work a crash redoes. */
const PAGES_PER_FLUSH = 5_000;
/**
 * Characters of a document lid.176 looks at. fastText averages word vectors, so a long prefix gives the same
 * label as the whole article while costing a bounded time per page (bench/extract.ts measures both).
 */
export const LANG_ID_CHARS = 4_000;

/** A dump location from config: `storage:<key>` is read through storage, anything else is a path or URL. */
export function dumpInput(location: string, ctx: BuildContext): DumpInput {
  if (location.startsWith('storage:')) return { storage: ctx.storage, key: location.slice('storage:'.length) };
  return location;
}

/** The stage's tools over a loaded identifier: language id on a capped prefix, exact cl100k counts. */
export function knowledgeTools(langId: LangId, langIdChars = LANG_ID_CHARS): KnowledgeTools {
  return { langId: { detect: (text) => langId.detect(text.length > langIdChars ? text.slice(0, langIdChars) : text) }, countTokens };
}

/** Knowledge activities over the shared build context. */
export function createKnowledgeActivities(ctx: BuildContext) {
  return {
    /** Splits a multistream dump into `rangeGroups` byte ranges of whole bz2 streams; [] when there is no index. */
    async planDumpRanges({ buildId, lang }: { buildId: string; lang: string }): Promise<RangeGroup[]> {
      const config = await ctx.configOf(buildId);
      const entry = config.languages[lang];
      if (!entry) throw new ConfigError(`language ${lang} is not in the build's config`);
      if (!entry.dump) throw new ConfigError(`languages.${lang}.dump is not set: expected a dump path, URL or storage: key`);
      if (!entry.dumpIndex) return [];
      const offsets = await readStreamOffsets(dumpInput(entry.dumpIndex, ctx));
      const size = await dumpSize(dumpInput(entry.dump, ctx));
      if (size === undefined) throw new ConfigError(`cannot tell the size of ${entry.dump}: a multistream dump needs a known size`);
      return groupRanges(streamRanges(offsets, size), config.knowledge.rangeGroups);
    },

    /** Extracts and segments one range group (or the whole dump), writing segment parts; resumes from its heartbeat. */
    async extractPages(input: ExtractInput): Promise<ExtractResult> {
      const activity = Context.current();
      const config = await ctx.configOf(input.buildId);
      const entry = config.languages[input.lang];
      if (!entry?.dump) throw new ConfigError(`languages.${input.lang}.dump is not set`);
      const options: KnowledgeOptions = { ...config.knowledge, lang: input.lang, fasttextLabel: entry.fasttextLabel, scriptConversion: entry.scriptConversion };
      const tools = knowledgeTools(await ctx.langId());
      const partSegments = input.flush?.segments ?? SEGMENTS_PER_PART;
      const flushPages = input.flush?.pages ?? PAGES_PER_FLUSH;
      const resumed = activity.info.heartbeatDetails as ExtractCursor | undefined;
      const cursor: ExtractCursor = resumed
        ? { lastPageId: resumed.lastPageId, partCounts: [...resumed.partCounts], funnel: resumed.funnel, pagesRead: resumed.pagesRead }
        : { partCounts: [], funnel: { select: emptyStats(), ...emptyKnowledgeFunnel() }, pagesRead: 0 };
      const resumedParts = cursor.partCounts.length;
      // Work since the last flush is redone after a crash, so it is counted apart and only merged at a flush.
      let pending: Funnel = {};
      let buffer: Segment[] = [];
      let pendingPages = 0;
      let lastPageId = cursor.lastPageId;
      let bytesRead = 0;
      let totalBytes: number | undefined;
      // A heartbeat well inside the timeout: the SDK throttles what reaches the server, so calling often is cheap.
      const beatEveryMs = Math.min(1_000, (activity.info.heartbeatTimeoutMs ?? 30_000) / 4);
      let lastBeat = 0;

      const beat = () => {
        activity.heartbeat({ ...cursor, progress: { pages: cursor.pagesRead + pendingPages, bytesRead, totalBytes } } satisfies ExtractCursor);
        lastBeat = Date.now();
      };
      const flush = async () => {
        if (buffer.length > 0) {
          // The key depends on the part's position only, so a redone part overwrites its earlier copy.
          const key = segmentPartKey(input.buildId, input.lang, input.group?.index, cursor.partCounts.length);
          await putJsonl(ctx.storage, key, buffer);
          cursor.partCounts.push(buffer.length);
          buffer = [];
        }
        cursor.funnel = mergeFunnels(cursor.funnel, pending);
        cursor.pagesRead += pendingPages;
        cursor.lastPageId = lastPageId;
        pending = {};
        pendingPages = 0;
        beat();
      };

      const events = readSelectedPages(dumpInput(entry.dump, ctx), {
        lang: input.lang,
        disambiguationTemplates: entry.disambiguationTemplates,
        start: input.group?.start,
        end: input.group?.end,
        resumeAfterPageId: cursor.lastPageId,
        onProgress: (p) => {
          bytesRead = p.bytesRead;
          totalBytes = p.totalBytes;
        },
      });
      for await (const ev of events) {
        if (activity.cancellationSignal.aborted) await activity.cancelled; // rejects with the cancellation
        pendingPages += 1;
        pending.select ??= emptyStats();
        const pageId = ev.kind === 'drop' ? ev.pageId : ev.page.pageId;
        if (ev.kind === 'drop') countVerdict(pending.select, drop(ev.reason));
        else {
          countVerdict(pending.select, KEEP);
          const prepared = prepareDocument(ev.page, options, tools, pending);
          if (prepared.kept) buffer.push(...prepared.segments);
        }
        if (pageId === undefined) continue;
        lastPageId = pageId;
        // Flushes only after an item with an id: the resume cursor is a page id, and an id-less drop
        // (damage) after it would be counted twice by the attempt that resumes there.
        if (buffer.length >= partSegments || pendingPages >= flushPages) await flush();
        else if (Date.now() - lastBeat >= beatEveryMs) beat();
      }
      await flush();
      const parts = cursor.partCounts.map((count, i) => ({ key: segmentPartKey(input.buildId, input.lang, input.group?.index, i), count }));
      return { parts, funnel: cursor.funnel, pagesRead: cursor.pagesRead, bytesRead, attempt: activity.info.attempt, resumedParts };
    },

    /** Lists the segment parts of a language in order, with the stage funnel, for the dialogue stage. */
    async writeSegmentsManifest(input: { buildId: string; lang: string; parts: Array<{ key: string; count: number }>; funnel: Funnel }): Promise<{ manifestKey: string; total: number }> {
      const manifestKey = segmentsManifestKey(input.buildId, input.lang);
      const total = input.parts.reduce((n, p) => n + p.count, 0);
      const manifest: ShardManifest & { lang: string; funnel: Funnel } = { lang: input.lang, shards: input.parts, total, funnel: input.funnel };
      await putJson(ctx.storage, manifestKey, manifest);
      await putJson(ctx.storage, knowledgeStatsKey(input.buildId, input.lang), input.funnel);
      return { manifestKey, total };
    },
  };
}
