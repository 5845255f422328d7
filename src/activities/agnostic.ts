/**
 * Language-agnostic activities (paper §2.2–2.4): read the English sets into item shards, judge chat with the
 * multi-criteria filter, translate each text of an item in its own LLM call with protected spans.
 * Every outcome is stored under a deterministic key, so reruns call no LLM.
 */
import { createReadStream } from 'node:fs';
import { judgeDecision, judgeJsonSchema, parseFilterPack, parseVerdict, renderJudgeMessages, type FilterPack } from '../core/agnostic/judge';
import { mask } from '../core/agnostic/mask';
import { prefilter } from '../core/agnostic/prefilter';
import { readerFor, type AgnosticItem, type AgnosticSubset, type SourceFormat } from '../core/agnostic/readers';
import { checkTranslation, parseTranslatePack, renderTranslateMessages, restoreTranslation, type TranslatePack } from '../core/agnostic/translate';
import { countVerdict, drop, emptyStats, KEEP, type StepStats } from '../core/stats';
import { countTokens } from '../core/text/tokens';
import { buildPrefix, stageKey } from '../names';
import { loadPack } from '../prompts/load';
import { getJson, putJson } from '../storage/json';
import type { BuildContext, ShardManifest } from './build-context';
import { callGateway } from './llm';

export interface SourceSet {
  manifestKey: string;
  count: number;
}

export interface PreparedSource extends SourceSet {
  subset: AgnosticSubset;
  read: StepStats;
  prefilter: StepStats;
}

export interface CallOutcome {
  calls: number;
  promptTokens: number;
  completionTokens: number;
}

export interface JudgeOutcome extends CallOutcome {
  outcome: 'keep' | 'drop' | 'unparsable';
  reason?: string;
}

export interface FieldOutcome extends CallOutcome {
  ok: boolean;
  reason?: string;
}

interface StoredField extends FieldOutcome {
  text?: string;
}

/** The stored translated item, read by assembly. */
export interface StoredTranslation {
  sourceId: string;
  turns: string[];
  model: string;
  packVersion: string;
  promptTokens: number;
  completionTokens: number;
  calls: number;
}

const ITEMS_PER_SHARD = 1_000;

/** Key of one stage item's folder. */
export function itemDir(buildId: string, lang: string, stage: string, sourceIndex: number): string {
  return stageKey(buildId, lang, stage, `items/${sourceIndex}`);
}

/** A text stream of a local file or a storage object (`storage:` prefix). */
async function* textChunks(location: string, ctx: BuildContext): AsyncGenerator<string> {
  const stream = location.startsWith('storage:') ? await ctx.storage.readStream(location.slice('storage:'.length)) : createReadStream(location);
  stream.setEncoding('utf8');
  for await (const chunk of stream) yield chunk as string;
}

/** Agnostic-stage activities over the shared build context. */
export function createAgnosticActivities(ctx: BuildContext) {
  let filterPack: FilterPack | undefined;
  const translatePacks = new Map<string, TranslatePack>();
  const translatePackOf = (lang: string) => translatePacks.get(lang) ?? translatePacks.set(lang, loadPack(lang, 'translate', parseTranslatePack)).get(lang)!;

  return {
    /** Streams the configured English files of a subset into item shards, skipping malformed and pre-filtered records. */
    async prepareSource({ buildId, subset }: { buildId: string; subset: AgnosticSubset }): Promise<PreparedSource> {
      const config = await ctx.configOf(buildId);
      const files: Array<{ path: string; format: SourceFormat }> = config.agnostic.sources[subset];
      const manifestKey = `${buildPrefix(buildId)}/sources/${subset}/manifest.json`;
      const done = await getJson<ShardManifest & { read: StepStats; prefilter: StepStats }>(ctx.storage, manifestKey);
      if (done) return { subset, manifestKey, count: done.total, read: done.read, prefilter: done.prefilter };
      const read = emptyStats();
      const pre = emptyStats();
      const shards: Array<{ key: string; count: number }> = [];
      let buffer: AgnosticItem[] = [];
      const flush = async () => {
        if (buffer.length === 0) return;
        const key = `${buildPrefix(buildId)}/sources/${subset}/${String(shards.length).padStart(5, '0')}.jsonl`;
        await ctx.storage.put(key, buffer.map((i) => JSON.stringify(i)).join('\n') + '\n');
        shards.push({ key, count: buffer.length });
        buffer = [];
      };
      for (const file of files) {
        for await (const r of readerFor(file.format)(textChunks(file.path, ctx))) {
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
      const total = shards.reduce((n, s) => n + s.count, 0);
      await putJson(ctx.storage, manifestKey, { shards, total, read, prefilter: pre });
      return { subset, manifestKey, count: total, read, prefilter: pre };
    },

    /** Figure 9 judge of one English conversation; the verdict is kept for audit. */
    async judgeConversation(input: { buildId: string; lang: string; sourceKey: string; sourceIndex: number; attempt: number }): Promise<JudgeOutcome> {
      const key = `${itemDir(input.buildId, input.lang, 'judge', input.sourceIndex)}/verdict-${input.attempt}.json`;
      const done = await getJson<JudgeOutcome>(ctx.storage, key);
      if (done) return { ...done, calls: 0, promptTokens: 0, completionTokens: 0 };
      const config = await ctx.configOf(input.buildId);
      filterPack ??= loadPack('en', 'filter', parseFilterPack);
      const item = await ctx.item<AgnosticItem>(input.sourceKey, input.sourceIndex);
      const result = await callGateway(ctx.gateway, {
        messages: renderJudgeMessages(filterPack, item.turns),
        maxTokens: 256,
        temperature: input.attempt === 0 ? 0 : config.llm.temperature,
        topP: config.llm.topP,
        // A retry must not hit the cached unparsable answer: it asks with another seed.
        seed: config.seed + input.attempt,
        jsonSchema: judgeJsonSchema,
      });
      const spent = { calls: result.cached ? 0 : 1, promptTokens: result.promptTokens, completionTokens: result.completionTokens };
      const parsed = parseVerdict(result.content);
      const outcome: JudgeOutcome & { verdict?: unknown; raw?: string } = parsed.ok
        ? (() => {
            const decision = judgeDecision(parsed.verdict);
            return decision.keep ? { outcome: 'keep' as const, verdict: parsed.verdict, ...spent } : { outcome: 'drop' as const, reason: decision.reason, verdict: parsed.verdict, ...spent };
          })()
        : { outcome: 'unparsable', reason: parsed.reason, raw: result.content.slice(0, 2_000), ...spent };
      await putJson(ctx.storage, key, outcome);
      return { outcome: outcome.outcome, reason: outcome.reason, ...spent };
    },

    /** Copies the judged-kept conversations, in draw order, into the shared filtered chat set. */
    async writeFilteredChat(input: { buildId: string; sourceKey: string }): Promise<SourceSet> {
      const manifestKey = `${buildPrefix(input.buildId)}/sources/chat-filtered/manifest.json`;
      const done = await getJson<ShardManifest>(ctx.storage, manifestKey);
      if (done) return { manifestKey, count: done.total };
      const kept = await keptInOrder(ctx, input.buildId, 'en', 'judge');
      const shards: Array<{ key: string; count: number }> = [];
      for (let i = 0; i < kept.length; i += ITEMS_PER_SHARD) {
        const items = await Promise.all(kept.slice(i, i + ITEMS_PER_SHARD).map((s) => ctx.item<AgnosticItem>(input.sourceKey, s)));
        const key = `${buildPrefix(input.buildId)}/sources/chat-filtered/${String(shards.length).padStart(5, '0')}.jsonl`;
        await ctx.storage.put(key, items.map((x) => JSON.stringify(x)).join('\n') + '\n');
        shards.push({ key, count: items.length });
      }
      await putJson(ctx.storage, manifestKey, { shards, total: kept.length });
      return { manifestKey, count: kept.length };
    },

    /** Number of texts of an item (turns of a conversation; query + response; instruction + solution). */
    async describeItem(input: { sourceKey: string; sourceIndex: number }): Promise<{ fields: number }> {
      return { fields: (await ctx.item<AgnosticItem>(input.sourceKey, input.sourceIndex)).turns.length };
    },

    /** Figure 10 translation of one text with code, LaTeX, URLs and citations masked; checked before it is kept. */
    async translateField(input: { buildId: string; lang: string; stage: string; sourceKey: string; sourceIndex: number; field: number; attempt: number }): Promise<FieldOutcome> {
      const key = `${itemDir(input.buildId, input.lang, input.stage, input.sourceIndex)}/field-${input.field}-${input.attempt}.json`;
      const done = await getJson<StoredField>(ctx.storage, key);
      if (done) return { ok: done.ok, reason: done.reason, calls: 0, promptTokens: 0, completionTokens: 0 };
      const config = await ctx.configOf(input.buildId);
      const entry = config.languages[input.lang]!;
      const item = await ctx.item<AgnosticItem>(input.sourceKey, input.sourceIndex);
      const { masked, slots } = mask(item.turns[input.field]!);
      const request = {
        messages: renderTranslateMessages(translatePackOf(input.lang), masked, { subset: item.subset }),
        maxTokens: Math.min(config.llm.maxTokens * 2, Math.max(256, countTokens(masked) * 3)),
        temperature: input.attempt === 0 ? 0 : config.llm.temperature,
        topP: config.llm.topP,
        seed: config.seed + input.attempt,
      };
      const result = await callGateway(ctx.gateway, request);
      const spent = { calls: result.cached ? 0 : 1, promptTokens: result.promptTokens, completionTokens: result.completionTokens };
      const verdict = checkTranslation({ text: result.content, finishReason: result.finishReason, slots }, { langId: await ctx.langId(), expectedLabel: entry.fasttextLabel });
      const restored = verdict.keep ? restoreTranslation(result.content, slots, { scriptConversion: entry.scriptConversion }) : undefined;
      const stored: StoredField = !verdict.keep
        ? { ok: false, reason: verdict.reason, ...spent }
        : restored && restored.ok
          ? { ok: true, text: restored.text, ...spent }
          : { ok: false, reason: restored && !restored.ok ? restored.reason : 'translate_restore_failed', ...spent };
      await putJson(ctx.storage, key, stored);
      return { ok: stored.ok, reason: stored.reason, calls: stored.calls, promptTokens: stored.promptTokens, completionTokens: stored.completionTokens };
    },

    /** Joins the translated texts of an item into one record (the first passing attempt of each field). */
    async saveTranslation(input: { buildId: string; lang: string; stage: string; sourceKey: string; sourceIndex: number; fields: number; config: { translateRetries: number } }): Promise<void> {
      const dir = itemDir(input.buildId, input.lang, input.stage, input.sourceIndex);
      if (await ctx.storage.exists(`${dir}/translation.json`)) return;
      const item = await ctx.item<AgnosticItem>(input.sourceKey, input.sourceIndex);
      const record: StoredTranslation = { sourceId: item.sourceId, turns: [], model: ctx.gateway.model, packVersion: translatePackOf(input.lang).version, promptTokens: 0, completionTokens: 0, calls: 0 };
      for (let f = 0; f < input.fields; f++) {
        for (let attempt = 0; attempt <= input.config.translateRetries; attempt++) {
          const s = await getJson<StoredField>(ctx.storage, `${dir}/field-${f}-${attempt}.json`);
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
      if (record.turns.length !== input.fields) throw new Error(`item ${input.sourceIndex} has ${record.turns.length} of ${input.fields} translated texts`);
      await ctx.storage.putIfAbsent(`${dir}/translation.json`, JSON.stringify(record));
    },
  };
}

/** Kept source indices of a stage in draw order, from its batch records. */
export async function keptInOrder(ctx: BuildContext, buildId: string, lang: string, stage: string): Promise<number[]> {
  const keys = await ctx.storage.list(stageKey(buildId, lang, stage, 'batches/'));
  const out: number[] = [];
  for (const key of keys.sort()) out.push(...((await getJson<{ kept: number[] }>(ctx.storage, key))?.kept ?? []));
  return out;
}
