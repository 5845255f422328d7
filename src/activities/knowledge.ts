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
import { emptyKnowledgeFunnel, prepareDocument, type KnowledgeOptions } from '../core/text/pipeline';
import { countTokens } from '../core/text/tokens';
import { dumpSize, readSelectedPages, readStreamOffsets, type DumpInput } from '../io/dump-source';
import { stageKey } from '../names';
import { putJson } from '../storage/json';
import type { BuildContext, ShardManifest } from './build-context';

export interface ExtractInput {
  buildId: string;
  lang: string;
  /** Byte range group of a multistream dump; absent = the whole dump, streamed. */
  group?: RangeGroup & { index: number };
}

export interface ExtractResult {
  parts: Array<{ key: string; count: number }>;
  funnel: Funnel;
  pagesRead: number;
  bytesRead: number;
}

/** What a heartbeat carries, so a retried attempt resumes where the last one flushed. */
interface ExtractCursor {
  lastPageId?: number;
  parts: Array<{ key: string; count: number }>;
  funnel: Funnel;
  pagesRead: number;
}

/** Segments per output part: small enough to flush often, large enough to keep object counts low. */
const SEGMENTS_PER_PART = 2_000;

/** A dump location from config: `s3://…` keys are read through storage, anything else is a path or URL. */
export function dumpInput(location: string, ctx: BuildContext): DumpInput {
  if (location.startsWith('storage:')) return { storage: ctx.storage, key: location.slice('storage:'.length) };
  return location;
}

/** Knowledge activities over the shared build context. */
export function createKnowledgeActivities(ctx: BuildContext) {
  return {
    /** Splits a multistream dump into `groups` byte ranges of whole bz2 streams; [] when there is no index. */
    async planDumpRanges({ buildId, lang }: { buildId: string; lang: string }): Promise<RangeGroup[]> {
      const config = await ctx.configOf(buildId);
      const entry = config.languages[lang]!;
      if (!entry.dump) throw new Error(`languages.${lang}.dump is not set`);
      if (!entry.dumpIndex) return [];
      const offsets = await readStreamOffsets(dumpInput(entry.dumpIndex, ctx));
      const size = await dumpSize(dumpInput(entry.dump, ctx));
      if (size === undefined) throw new Error(`cannot tell the size of ${entry.dump}`);
      return groupRanges(streamRanges(offsets, size), config.knowledge.rangeGroups);
    },

    /** Extracts and segments one range group (or the whole dump), writing segment parts; resumable. */
    async extractPages(input: ExtractInput): Promise<ExtractResult> {
      const activity = Context.current();
      const config = await ctx.configOf(input.buildId);
      const entry = config.languages[input.lang]!;
      const options: KnowledgeOptions = { ...config.knowledge, lang: input.lang, fasttextLabel: entry.fasttextLabel, scriptConversion: entry.scriptConversion };
      const tools = { langId: await ctx.langId(), countTokens };
      const resumed = activity.info.heartbeatDetails as ExtractCursor | undefined;
      const cursor: ExtractCursor = resumed ?? { parts: [], funnel: { select: emptyStats(), ...emptyKnowledgeFunnel() }, pagesRead: 0 };
      // Work since the last flush is redone after a crash, so it is counted into a pending funnel first.
      let pending: Funnel = {};
      let buffer: Segment[] = [];
      let pendingPages = 0;
      let lastPageId = cursor.lastPageId;
      let bytesRead = 0;
      const prefix = input.group ? `g${String(input.group.index).padStart(4, '0')}` : 'all';

      const flush = async () => {
        if (buffer.length > 0) {
          const key = stageKey(input.buildId, input.lang, 'segments', `${prefix}-${String(cursor.parts.length).padStart(5, '0')}.jsonl`);
          await ctx.storage.put(key, buffer.map((s) => JSON.stringify(s)).join('\n') + '\n');
          cursor.parts.push({ key, count: buffer.length });
          buffer = [];
        }
        cursor.funnel = mergeFunnels(cursor.funnel, pending);
        cursor.pagesRead += pendingPages;
        cursor.lastPageId = lastPageId;
        pending = {};
        pendingPages = 0;
        activity.heartbeat(cursor);
      };

      let lastBeat = Date.now();
      const events = readSelectedPages(dumpInput(entry.dump!, ctx), {
        lang: input.lang,
        disambiguationTemplates: entry.disambiguationTemplates,
        start: input.group?.start,
        end: input.group?.end,
        resumeAfterPageId: cursor.lastPageId,
        onProgress: (p) => (bytesRead = p.bytesRead),
      });
      for await (const ev of events) {
        pendingPages += 1;
        pending.select ??= emptyStats();
        if (ev.kind === 'drop') {
          countVerdict(pending.select, drop(ev.reason));
          if (ev.pageId !== undefined) lastPageId = ev.pageId;
        } else {
          countVerdict(pending.select, KEEP);
          lastPageId = ev.page.pageId;
          const prepared = prepareDocument(ev.page, options, tools, pending);
          if (prepared.kept) buffer.push(...prepared.segments);
        }
        if (buffer.length >= SEGMENTS_PER_PART) await flush();
        else if (Date.now() - lastBeat > 5_000) {
          // Progress-only beat: the cursor stays at the last flush, so a resume redoes the unflushed pages.
          activity.heartbeat(cursor);
          lastBeat = Date.now();
        }
      }
      await flush();
      return { parts: cursor.parts, funnel: cursor.funnel, pagesRead: cursor.pagesRead, bytesRead };
    },

    /** Lists the segment parts of a language in order, with the stage funnel, for the dialogue stage. */
    async writeSegmentsManifest(input: { buildId: string; lang: string; parts: Array<{ key: string; count: number }>; funnel: Funnel }): Promise<{ manifestKey: string; total: number }> {
      const manifestKey = stageKey(input.buildId, input.lang, 'segments', 'manifest.json');
      const total = input.parts.reduce((n, p) => n + p.count, 0);
      const manifest: ShardManifest & { lang: string; funnel: Funnel } = { lang: input.lang, shards: input.parts, total, funnel: input.funnel };
      await putJson(ctx.storage, manifestKey, manifest);
      await putJson(ctx.storage, stageKey(input.buildId, input.lang, 'stats', 'knowledge.json'), input.funnel);
      return { manifestKey, total };
    },
  };
}
