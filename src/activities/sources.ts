/**
 * The English sources of the language-agnostic data (paper §2.2–2.4): the configured files read into item shards,
 * and the shared judge-filtered chat set. Every shard and manifest is keyed by content position, so reruns rewrite
 * the same bytes.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { Context } from '@temporalio/activity';
import type { JudgeVerdict } from '../core/agnostic/judge';
import { prefilter } from '../core/agnostic/prefilter';
import { readerFor, type AgnosticItem, type AgnosticSubset, type SourceFormat } from '../core/agnostic/readers';
import { BadInputError } from '../core/errors';
import { countVerdict, drop, emptyStats, KEEP, type StepStats } from '../core/stats';
import { countTokens } from '../core/text/tokens';
import { keptBatchesPrefix, sourceManifestKey, sourceShardKey, verdictAuditKey, verdictKey } from '../names';
import { getJson, putJsonl, stored } from '../storage/json';
import { StorageNotFoundError } from '../storage/keys';
import type { BuildContext, ShardManifest } from './build-context';
import type { StoredVerdict } from './judge';

/** A prepared item set: its shard manifest and item count. */
export interface SourceSet {
  manifestKey: string;
  count: number;
}

/** An English source read into shards, with its read and pre-filter funnels. */
export interface PreparedSource extends SourceSet {
  subset: AgnosticSubset;
  read: StepStats;
  prefilter: StepStats;
}

/** An item of the shared filtered chat set: the source conversation with the verdict that kept it. */
export type FilteredItem = AgnosticItem & { verdict?: JudgeVerdict };

const ITEMS_PER_SHARD = 1_000;
/** Records read between heartbeats of a source read. */
const HEARTBEAT_EVERY = 2_000;

/** A text stream of a local file or a storage object (`storage:` prefix); a missing or unreadable one is bad input. */
async function* textChunks(location: string, subset: AgnosticSubset, ctx: BuildContext): AsyncGenerator<string> {
  try {
    const stream = location.startsWith('storage:') ? await ctx.storage.readStream(location.slice('storage:'.length)) : createReadStream(location);
    stream.setEncoding('utf8');
    for await (const chunk of stream) yield chunk as string;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof StorageNotFoundError || code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      throw new BadInputError(`agnostic source ${location} cannot be read (${code ?? 'not in storage'}): fix agnostic.sources.${subset} in the config`);
    }
    throw err;
  }
}

/** Heartbeats when running as an activity (benchmarks call the same code outside one). */
function heartbeat(details?: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // not in an activity
  }
}

/** Source activities over the shared build context. */
export function createSourceActivities(ctx: BuildContext) {
  return {
    /** Streams the configured English files of a subset into item shards, skipping malformed and pre-filtered records. */
    async prepareSource({ buildId, subset }: { buildId: string; subset: AgnosticSubset }): Promise<PreparedSource> {
      const config = await ctx.configOf(buildId);
      const files: Array<{ path: string; format: SourceFormat }> = config.agnostic.sources[subset];
      const manifestKey = sourceManifestKey(buildId, subset);
      // The manifest is written last, so a build that has one has every shard it lists.
      const manifest = await stored(ctx.storage, manifestKey, async (): Promise<ShardManifest & { read: StepStats; prefilter: StepStats }> => {
        const read = emptyStats();
        const pre = emptyStats();
        const shards: Array<{ key: string; count: number }> = [];
        let buffer: AgnosticItem[] = [];
        const flush = async () => {
          if (buffer.length === 0) return;
          const key = sourceShardKey(buildId, subset, shards.length);
          await putJsonl(ctx.storage, key, buffer);
          shards.push({ key, count: buffer.length });
          buffer = [];
        };
        // A rerun rereads from the start: shard keys and contents depend only on the files, so rewrites are identical.
        for (const file of files) {
          for await (const r of readerFor(file.format)(textChunks(file.path, subset, ctx))) {
            if (read.total % HEARTBEAT_EVERY === 0) heartbeat({ file: file.path, read: read.total });
            if (r.kind === 'malformed') {
              countVerdict(read, drop(r.reason));
              continue;
            }
            countVerdict(read, KEEP);
            const item = { ...r.record, subset };
            if (!countVerdict(pre, subset === 'chat' ? prefilter(item, config.agnostic.prefilter, { countTokens }) : KEEP)) continue;
            buffer.push(item);
            if (buffer.length >= ITEMS_PER_SHARD) await flush();
          }
        }
        await flush();
        return { shards, total: shards.reduce((n, s) => n + s.count, 0), read, prefilter: pre };
      });
      return { subset, manifestKey, count: manifest.total, read: manifest.read, prefilter: manifest.prefilter };
    },

    /**
     * Writes the shared filtered chat set: the judged-kept conversations in source order (independent of the judge's
     * draw order and batching), each with the verdict that kept it; plus the audit file of every verdict.
     */
    async writeFilteredChat(input: { buildId: string; sourceKey: string }): Promise<SourceSet> {
      const manifestKey = sourceManifestKey(input.buildId, 'chat-filtered');
      const manifest = await stored(ctx.storage, manifestKey, async (): Promise<ShardManifest> => {
        const config = await ctx.configOf(input.buildId);
        const sourceLang = config.agnostic.sourceLang;
        const source = await ctx.cachedJson<ShardManifest>(input.sourceKey);
        const attemptsOf = async (i: number): Promise<StoredVerdict[]> => {
          const out: StoredVerdict[] = [];
          for (let a = 0; a <= config.agnostic.judgeRetries; a++) {
            const v = await getJson<StoredVerdict>(ctx.storage, verdictKey(input.buildId, sourceLang, i, a));
            if (!v) break;
            out.push(v);
          }
          return out;
        };
        const kept = [...(await keptInOrder(ctx, input.buildId, sourceLang, 'judge'))].sort((a, b) => a - b);
        const shards: Array<{ key: string; count: number }> = [];
        for (let i = 0; i < kept.length; i += ITEMS_PER_SHARD) {
          const items = await Promise.all(
            kept.slice(i, i + ITEMS_PER_SHARD).map(async (s): Promise<FilteredItem> => {
              const item = await ctx.item<AgnosticItem>(input.sourceKey, s);
              return { ...item, verdict: (await attemptsOf(s)).find((v) => v.outcome === 'keep')?.verdict };
            }),
          );
          const key = sourceShardKey(input.buildId, 'chat-filtered', shards.length);
          await putJsonl(ctx.storage, key, items);
          shards.push({ key, count: items.length });
          heartbeat({ written: i });
        }
        const keptSet = new Set(kept);
        async function* audit() {
          for (let i = 0; i < source.total; i++) {
            if (i % HEARTBEAT_EVERY === 0) heartbeat({ audited: i });
            const attempts = await attemptsOf(i);
            const last = attempts[attempts.length - 1];
            const decision = keptSet.has(i) ? 'keep' : last === undefined ? 'not_judged' : last.outcome === 'unparsable' ? 'agnostic_unjudged' : last.reason;
            const { sourceId } = await ctx.item<AgnosticItem>(input.sourceKey, i);
            yield JSON.stringify({ sourceIndex: i, sourceId, decision, attempts }) + '\n';
          }
        }
        await ctx.storage.putStream(verdictAuditKey(input.buildId), Readable.from(audit()));
        return { shards, total: kept.length };
      });
      return { manifestKey, count: manifest.total };
    },
  };
}

/** Kept source indices of a stage in draw order, from its batch records; the first `limit` (the stage's quota) when given. */
export async function keptInOrder(ctx: BuildContext, buildId: string, lang: string, stage: string, limit = Number.POSITIVE_INFINITY): Promise<number[]> {
  const keys = await ctx.storage.list(keptBatchesPrefix(buildId, lang, stage));
  const out: number[] = [];
  for (const key of keys.sort()) out.push(...((await getJson<{ kept: number[] }>(ctx.storage, key))?.kept ?? []));
  return out.slice(0, limit);
}
