/**
 * Language-agnostic activities (paper §2.2–2.4): read the English sets into item shards, judge chat with the
 * multi-criteria filter, translate each text of an item in its own LLM call with protected spans.
 * Every outcome is stored under a deterministic key, so reruns call no LLM.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { Context } from '@temporalio/activity';
import { judgeDecision, judgeJsonSchema, parseFilterPack, parseVerdict, renderJudgeMessages, type FilterPack, type JudgeVerdict } from '../core/agnostic/judge';
import { splitForTranslation } from '../core/agnostic/mask';
import { prefilter } from '../core/agnostic/prefilter';
import { readerFor, type AgnosticItem, type AgnosticSubset, type SourceFormat } from '../core/agnostic/readers';
import { acceptTranslation, parseTranslatePack, renderTranslateMessages, translateInstructions, translationAttempt, type TranslatePack } from '../core/agnostic/translate';
import { rngFor } from '../core/random';
import { countVerdict, drop, emptyStats, KEEP, type StepStats } from '../core/stats';
import { countTokens } from '../core/text/tokens';
import { countPromptTokens } from '../llm/prompt-tokens';
import type { ChatRequest } from '../llm/types';
import { keptBatchesPrefix, sourceManifestKey, sourceShardKey, translationFieldKey, translationKey, verdictAuditKey, verdictKey } from '../names';
import { loadPack } from '../prompts/load';
import { getJson, putJsonl, stored } from '../storage/json';
import type { BuildContext, ShardManifest } from './build-context';
import { addCallCost, type CallOutcome } from '../core/cost';
import { callGateway } from './llm';
import { BadInputError, MissingInputError } from '../core/errors';
import { StorageNotFoundError } from '../storage/keys';

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

/** What the workflow learns of one judge attempt: counts and the decision, never the text. */
export interface JudgeOutcome extends CallOutcome {
  outcome: 'keep' | 'drop' | 'unparsable';
  reason?: string;
}

/** What the workflow learns of one translated item: kept, or the reason of the field that failed every attempt. */
export interface ItemTranslationOutcome extends CallOutcome {
  kept: boolean;
  reason?: string;
}

/** One item to translate (its texts are read from the source shard). */
export interface TranslateItemInput {
  buildId: string;
  lang: string;
  stage: string;
  sourceKey: string;
  sourceIndex: number;
}

/** What the workflow learns of one translated text. */
export interface FieldOutcome extends CallOutcome {
  ok: boolean;
  reason?: string;
}

/** One judge attempt as stored for audit (`<sourceLang>/judge/items/<i>/verdict-<attempt>.json`). */
export interface StoredVerdict {
  attempt: number;
  outcome: JudgeOutcome['outcome'];
  reason?: string;
  verdict?: JudgeVerdict;
  /** The unparsable reply (first 2,000 characters). */
  raw?: string;
  model: string;
  packVersion: string;
  /** LLM calls this attempt needed (1 even when a rerun found it in the response cache). */
  calls: number;
  promptTokens: number;
  completionTokens: number;
}

/** One text's translation attempt as stored. */
interface StoredField {
  ok: boolean;
  reason?: string;
  text?: string;
  /** The raw reply a check dropped (first REJECTED_CHARS characters), so a drop can be read, not only counted. */
  rejected?: string;
  /** The piece (of splitForTranslation) that failed. */
  piece?: number;
  /** Per piece: its translation, or null when copied, not reached or failed; the next attempt reuses the strings. */
  pieces?: Array<string | null>;
  /** LLM calls this attempt needed (one per piece it asked for, also when a rerun found it in the response cache). */
  calls: number;
  promptTokens: number;
  completionTokens: number;
}

/** An item of the shared filtered chat set: the source conversation with the verdict that kept it. */
export type FilteredItem = AgnosticItem & { verdict?: JudgeVerdict };

/** The stored translated item, read by assembly. */
export interface StoredTranslation {
  sourceId: string;
  turns: string[];
  /** Judge verdict that let the conversation in (chat only). */
  verdict?: JudgeVerdict;
  model: string;
  packVersion: string;
  promptTokens: number;
  completionTokens: number;
  calls: number;
}

const ITEMS_PER_SHARD = 1_000;
/** Records read between heartbeats of a source read. */
const HEARTBEAT_EVERY = 2_000;
/** Translations grow: cl100k spends up to ~3 tokens on Cyrillic or CJK text per English token. */
const TRANSLATION_GROWTH = 3;
/** Characters of a dropped reply kept in its field file. */
const REJECTED_CHARS = 2_000;
const MIN_TRANSLATION_TOKENS = 256;

/**
 * Seed of a retry: attempt 0 uses the run's seed (cache shared with reruns); a retry gets a seed derived from
 * (seed, kind, attempt), so it never replays the cached failed answer nor collides with another run's seed.
 */
export function retrySeed(seed: number, kind: string, attempt: number): number {
  return attempt === 0 ? seed : Math.floor(rngFor(seed, 'retry', kind, attempt)() * 2 ** 31);
}

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

/** Agnostic-stage activities over the shared build context. */
export function createAgnosticActivities(ctx: BuildContext) {
  let filterPack: FilterPack | undefined;
  const filterPackOf = () => (filterPack ??= loadPack('en', 'filter', parseFilterPack));
  const translatePacks = new Map<string, TranslatePack>();
  const translatePackOf = (lang: string) => translatePacks.get(lang) ?? translatePacks.set(lang, loadPack(lang, 'translate', parseTranslatePack)).get(lang)!;

  /**
   * Figure 10 translation of one text, piece by piece (splitForTranslation: blocks of code or display maths are
   * copied, each prose run between them goes in a call of its own), with code, LaTeX, URLs and citations masked;
   * each piece checked before it is kept. A retry asks again only for the pieces the attempt before it did not get
   * (their translations are stored with it), showing the protected spans as they are (translationAttempt). A piece
   * with no prose is copied without a call; one whose prompt and expected translation cannot fit the context window
   * is a counted drop (`translate_too_long`), not a failed build.
   */
  async function translateField(input: TranslateItemInput & { field: number; attempt: number }): Promise<FieldOutcome> {
    let paid = 0;
    let rateLimited = 0;
    const { value: field } = await stored(ctx.storage, translationFieldKey(input, input.field, input.attempt), async (): Promise<StoredField> => {
      const config = await ctx.configOf(input.buildId);
      const entry = config.languages[input.lang]!;
      const item = await ctx.item<AgnosticItem>(input.sourceKey, input.sourceIndex);
      const pack = translatePackOf(input.lang);
      const pieces = splitForTranslation(item.turns[input.field]!);
      const earlier = input.attempt > 0 ? (await getJson<StoredField>(ctx.storage, translationFieldKey(input, input.field, input.attempt - 1)))?.pieces : undefined;
      const translated: Array<string | null> = [];
      const spent = { calls: 0, promptTokens: 0, completionTokens: 0 };
      let failure: Pick<StoredField, 'reason' | 'piece' | 'rejected'> | undefined;
      for (const [i, piece] of pieces.entries()) {
        const reused = earlier?.[i];
        if (!piece.translate || typeof reused === 'string') {
          translated.push(piece.translate ? reused! : null);
          continue;
        }
        const attempt = translationAttempt(piece.text, input.attempt);
        const messages = renderTranslateMessages(pack, attempt.prompt, { subset: item.subset });
        const sourceTokens = countTokens(attempt.masked);
        const room = config.llm.contextWindow - countPromptTokens({ messages } as ChatRequest);
        if (room < sourceTokens) {
          failure = { reason: 'translate_too_long', piece: i };
          break;
        }
        const result = await callGateway(ctx.gateway, {
          messages,
          // Sized by the text, not by config.llm.maxTokens (a dialogue answer's cap), and never past the window.
          maxTokens: Math.min(room, Math.max(MIN_TRANSLATION_TOKENS, sourceTokens * TRANSLATION_GROWTH)),
          temperature: input.attempt === 0 ? 0 : config.llm.temperature,
          topP: config.llm.topP,
          seed: retrySeed(config.seed, 'translate', input.attempt),
        });
        addCallCost(spent, { calls: 1, promptTokens: result.promptTokens, completionTokens: result.completionTokens });
        if (!result.cached) paid += 1;
        rateLimited = Math.max(rateLimited, result.rateLimited);
        const accepted = acceptTranslation(
          { text: attempt.asMasked(result.content), finishReason: result.finishReason, slots: attempt.slots },
          { langId: await ctx.langId(), expectedLabel: entry.fasttextLabel, instructions: translateInstructions(pack, item.subset), source: attempt.masked, scriptConversion: entry.scriptConversion },
        );
        if (!accepted.ok) {
          failure = { reason: accepted.reason, piece: i, rejected: result.content.slice(0, REJECTED_CHARS) };
          break;
        }
        translated.push(accepted.text);
      }
      return failure
        ? { ok: false, ...failure, pieces: translated, ...spent }
        : { ok: true, text: pieces.map((p, i) => (p.translate ? translated[i]! : p.text)).join(''), pieces: translated, ...spent };
    });
    // A stored field reports its tokens but no calls (paid stays 0): they were counted by the attempt that sent them.
    const out: FieldOutcome = { ok: field.ok, reason: field.reason, calls: paid, promptTokens: field.promptTokens, completionTokens: field.completionTokens };
    return rateLimited > 0 ? { ...out, rateLimited } : out;
  }

  /** Joins the translated texts of an item into one record (the first passing attempt of each field, the cost of all attempts). */
  async function saveTranslation(input: TranslateItemInput & { fields: number }): Promise<void> {
    const key = translationKey(input.buildId, input.lang, input.stage, input.sourceIndex);
    if (await ctx.storage.exists(key)) return;
    const config = await ctx.configOf(input.buildId);
    const item = await ctx.item<FilteredItem>(input.sourceKey, input.sourceIndex);
    const translatePack = translatePackOf(input.lang).version;
    const record: StoredTranslation = {
      sourceId: item.sourceId,
      turns: [],
      ...(item.verdict ? { verdict: item.verdict } : {}),
      model: ctx.gateway.model,
      packVersion: item.subset === 'chat' ? `${filterPackOf().version}+${translatePack}` : translatePack,
      promptTokens: 0,
      completionTokens: 0,
      calls: 0,
    };
    for (let f = 0; f < input.fields; f++) {
      for (let attempt = 0; attempt <= config.agnostic.translateRetries; attempt++) {
        const s = await getJson<StoredField>(ctx.storage, translationFieldKey(input, f, attempt));
        if (!s) break;
        record.promptTokens += s.promptTokens;
        record.completionTokens += s.completionTokens;
        record.calls += s.calls;
        if (s.ok) {
          record.turns.push(s.text!);
          break;
        }
      }
    }
    if (record.turns.length !== input.fields) throw new MissingInputError(`item ${input.sourceIndex} has ${record.turns.length} of ${input.fields} translated texts in storage`);
    await ctx.storage.putIfAbsent(key, JSON.stringify(record));
  }

  return {
    /** Streams the configured English files of a subset into item shards, skipping malformed and pre-filtered records. */
    async prepareSource({ buildId, subset }: { buildId: string; subset: AgnosticSubset }): Promise<PreparedSource> {
      const config = await ctx.configOf(buildId);
      const files: Array<{ path: string; format: SourceFormat }> = config.agnostic.sources[subset];
      const manifestKey = sourceManifestKey(buildId, subset);
      // The manifest is written last, so a build that has one has every shard it lists.
      const { value: manifest } = await stored(ctx.storage, manifestKey, async (): Promise<ShardManifest & { read: StepStats; prefilter: StepStats }> => {
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

    /** Figure 9 judge of one English conversation; every attempt's verdict (or unparsable reply) is stored for audit. */
    async judgeConversation(input: { buildId: string; lang: string; sourceKey: string; sourceIndex: number; attempt: number }): Promise<JudgeOutcome> {
      let paid = 0;
      let rateLimited = 0;
      const { value: verdict } = await stored(ctx.storage, verdictKey(input.buildId, input.lang, input.sourceIndex, input.attempt), async (): Promise<StoredVerdict> => {
        const config = await ctx.configOf(input.buildId);
        const pack = filterPackOf();
        const item = await ctx.item<AgnosticItem>(input.sourceKey, input.sourceIndex);
        const result = await callGateway(ctx.gateway, {
          messages: renderJudgeMessages(pack, item.turns),
          maxTokens: 256,
          temperature: input.attempt === 0 ? 0 : config.llm.temperature,
          topP: config.llm.topP,
          seed: retrySeed(config.seed, 'judge', input.attempt),
          jsonSchema: judgeJsonSchema,
        });
        const parsed = parseVerdict(result.content);
        paid = result.cached ? 0 : 1;
        rateLimited = result.rateLimited;
        const base = { attempt: input.attempt, model: ctx.gateway.model, packVersion: pack.version, calls: 1, promptTokens: result.promptTokens, completionTokens: result.completionTokens };
        if (!parsed.ok) return { ...base, outcome: 'unparsable', reason: parsed.reason, raw: result.content.slice(0, 2_000) };
        const decision = judgeDecision(parsed.verdict);
        return decision.keep ? { ...base, outcome: 'keep', verdict: parsed.verdict } : { ...base, outcome: 'drop', reason: decision.reason, verdict: parsed.verdict };
      });
      // A stored verdict reports its tokens but no call (paid stays 0): the attempt that judged counted it.
      return { outcome: verdict.outcome, reason: verdict.reason, calls: paid, promptTokens: verdict.promptTokens, completionTokens: verdict.completionTokens, ...(rateLimited > 0 ? { rateLimited } : {}) };
    },

    /**
     * Writes the shared filtered chat set: the judged-kept conversations in source order (independent of the judge's
     * draw order and batching), each with the verdict that kept it; plus the audit file of every verdict.
     */
    async writeFilteredChat(input: { buildId: string; sourceKey: string }): Promise<SourceSet> {
      const manifestKey = sourceManifestKey(input.buildId, 'chat-filtered');
      const { value: manifest } = await stored(ctx.storage, manifestKey, async (): Promise<ShardManifest> => {
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

    /**
     * Paper §2.2.2: translates every text of one item in turn, each failed check retried up to
     * agnostic.translateRetries times, and saves the item. Each attempt is stored as it finishes, so a retried
     * activity, a rerun or a resumed build pays only for the call that was in flight. A cancellation stops it
     * between calls (callGateway).
     */
    async translateItem(input: TranslateItemInput): Promise<ItemTranslationOutcome> {
      const config = await ctx.configOf(input.buildId);
      const fields = (await ctx.item<AgnosticItem>(input.sourceKey, input.sourceIndex)).turns.length;
      const out: ItemTranslationOutcome = { kept: false, calls: 0, promptTokens: 0, completionTokens: 0 };
      for (let field = 0; field < fields; field++) {
        let reason: string | undefined;
        for (let attempt = 0; attempt <= config.agnostic.translateRetries; attempt++) {
          const r = await translateField({ ...input, field, attempt });
          addCallCost(out, r);
          reason = r.ok ? undefined : r.reason;
          if (r.ok) break;
        }
        if (reason) return { ...out, reason };
      }
      await saveTranslation({ ...input, fields });
      return { ...out, kept: true };
    },
  };
}

/** Kept source indices of a stage in draw order, from its batch records. */
export async function keptInOrder(ctx: BuildContext, buildId: string, lang: string, stage: string): Promise<number[]> {
  const keys = await ctx.storage.list(keptBatchesPrefix(buildId, lang, stage));
  const out: number[] = [];
  for (const key of keys.sort()) out.push(...((await getJson<{ kept: number[] }>(ctx.storage, key))?.kept ?? []));
  return out;
}
