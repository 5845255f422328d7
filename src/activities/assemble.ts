/**
 * Dataset assembly (paper §3): the kept items of every stage, in draw order, become the
 * `{lang}_{subset}.jsonl` files with contiguous ids, plus sidecars, statistics, quality report,
 * manifest and dataset card. Assembly only reads stored outputs: it can be rerun at no LLM cost.
 */
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { AgnosticItem } from '../core/agnostic/readers';
import { formatDialogueLine } from '../core/dialogue/format';
import type { DialoguePack } from '../core/dialogue/prompt-pack';
import { renderDatasetCard, type DatasetManifest } from '../core/export/card';
import { datasetFileName, sidecarFileName, type DatasetStats, type Subset } from '../core/export/stats';
import type { Funnel } from '../core/stats';
import type { Config } from '../config';
import { computeDatasetReport, writeDatasetReport } from '../dataset/report';
import { datasetPrefix } from '../names';
import { loadDialoguePack } from '../prompts/load';
import { getJson, putJson } from '../storage/json';
import type { BuildContext, ShardManifest } from './build-context';
import { keptInOrder, itemDir, type StoredTranslation } from './agnostic';
import { dialogueDir, type StoredDialogue } from './dialogue';

const CODE_VERSION: string = require('../../package.json').version;

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

export interface AssembleInput {
  buildId: string;
  /** Filtered shared chat set and the English sources, for English pass-through. */
  sources: Partial<Record<'chat' | 'math' | 'code', string>>;
  stages: StageSummary[];
  startedAt: string;
}

export interface AssembleResult {
  datasetPrefix: string;
  files: Record<string, number>;
  qualityFailures: string[];
}

/** Assembly activities over the shared build context. */
export function createAssembleActivities(ctx: BuildContext) {
  return {
    /** Writes the final dataset folder of a build. */
    async assembleDataset(input: AssembleInput): Promise<AssembleResult> {
      const activity = Context.current();
      const config = await ctx.configOf(input.buildId);
      const prefix = datasetPrefix(input.buildId);
      const files: Record<string, number> = {};
      const packs: Record<string, string> = {};
      for (const lang of Object.keys(config.languages)) {
        const pack = loadDialoguePack(lang);
        packs[lang] = pack.version;
        files[datasetFileName(lang, 'chat_specific')] = await writeChatSpecific(ctx, input.buildId, lang, pack, config.dialogue.includeDocumentInFirstTurn, prefix);
        activity.heartbeat(lang);
        for (const subset of ['chat_agnostic', 'math', 'code'] as const) {
          const source = subset === 'chat_agnostic' ? 'chat' : subset;
          if (!input.sources[source]) continue;
          const passThrough = lang === config.agnostic.sourceLang && config.agnostic.englishFullSets;
          files[datasetFileName(lang, subset)] = passThrough
            ? await writePassThrough(ctx, input.sources[source]!, lang, subset, prefix)
            : await writeTranslated(ctx, input.buildId, lang, subset, prefix);
          activity.heartbeat(`${lang}/${subset}`);
        }
      }
      const report = await computeDatasetReport({ storage: ctx.storage, prefix }, { quality: config.quality });
      await writeDatasetReport(report, { storage: ctx.storage, prefix });
      const manifest = buildManifest(input, config, ctx.gateway.model, packs, report.stats);
      await putJson(ctx.storage, `${prefix}/manifest.json`, manifest);
      await ctx.storage.put(`${prefix}/README.md`, renderDatasetCard(manifest, report.stats));
      return { datasetPrefix: prefix, files, qualityFailures: report.quality.failures.map((f) => `${f.file}: ${f.threshold} ${f.value} (limit ${f.limit})`) };
    },
  };
}

/** Streams lines to one storage object; returns how many were written. */
async function writeLines(ctx: BuildContext, key: string, lines: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  async function* encoded() {
    for await (const line of lines) {
      n += 1;
      yield JSON.stringify(line) + '\n';
    }
  }
  await ctx.storage.putStream(key, Readable.from(encoded()));
  return n;
}

async function writeChatSpecific(ctx: BuildContext, buildId: string, lang: string, pack: DialoguePack, includeDocument: boolean, prefix: string): Promise<number> {
  const kept = await keptInOrder(ctx, buildId, lang, 'chat_specific');
  const dialogues = async function* () {
    for (const index of kept) yield (await getJson<StoredDialogue>(ctx.storage, `${dialogueDir(buildId, lang, index)}/dialogue.json`))!;
  };
  const count = await writeLines(
    ctx,
    `${prefix}/${datasetFileName(lang, 'chat_specific')}`,
    (async function* () {
      let n = 0;
      for await (const d of dialogues()) yield formatDialogueLine({ lang, index: n++, background: d.document, turns: d.turns, pack, includeDocument });
    })(),
  );
  await writeLines(
    ctx,
    `${prefix}/${sidecarFileName(lang)}`,
    (async function* () {
      let n = 0;
      for await (const d of dialogues()) {
        yield {
          id: `${lang}_chat_specific_${n++}`,
          question: d.turns[0],
          document: d.document,
          segmentId: d.segmentId,
          pageId: d.pageId,
          title: d.title,
          turnKinds: d.kinds,
          packVersion: d.packVersion,
          model: d.model,
          promptTokens: d.promptTokens,
          completionTokens: d.completionTokens,
          calls: d.calls,
        };
      }
    })(),
  );
  return count;
}

async function writeTranslated(ctx: BuildContext, buildId: string, lang: string, subset: Subset, prefix: string): Promise<number> {
  const kept = await keptInOrder(ctx, buildId, lang, subset);
  const records = async function* () {
    for (const index of kept) yield (await getJson<StoredTranslation>(ctx.storage, `${itemDir(buildId, lang, subset, index)}/translation.json`))!;
  };
  const count = await writeLines(
    ctx,
    `${prefix}/${datasetFileName(lang, subset)}`,
    (async function* () {
      let n = 0;
      for await (const r of records()) yield { id: `${lang}_${subset}_${n++}`, data: r.turns };
    })(),
  );
  await writeLines(
    ctx,
    `${prefix}/${lang}_${subset}.meta.jsonl`,
    (async function* () {
      let n = 0;
      for await (const r of records()) yield { id: `${lang}_${subset}_${n++}`, sourceId: r.sourceId, model: r.model, packVersion: r.packVersion, promptTokens: r.promptTokens, completionTokens: r.completionTokens, calls: r.calls };
    })(),
  );
  return count;
}

/** English keeps its full sets (Table 2): items are written as read, no LLM. */
async function writePassThrough(ctx: BuildContext, manifestKey: string, lang: string, subset: Subset, prefix: string): Promise<number> {
  const manifest = (await getJson<ShardManifest>(ctx.storage, manifestKey))!;
  return writeLines(
    ctx,
    `${prefix}/${datasetFileName(lang, subset)}`,
    (async function* () {
      let n = 0;
      for (const shard of manifest.shards) {
        const text = (await ctx.storage.getText(shard.key)) ?? '';
        for (const line of text.split('\n')) {
          if (line.length === 0) continue;
          yield { id: `${lang}_${subset}_${n++}`, data: (JSON.parse(line) as AgnosticItem).turns };
        }
      }
    })(),
  );
}

function buildManifest(input: AssembleInput, config: Config, model: string, packs: Record<string, string>, stats: DatasetStats): DatasetManifest {
  const finishedAt = new Date().toISOString();
  const funnels: Record<string, Funnel> = {};
  const llm: DatasetManifest['llm'] = {};
  const byStageMs: Record<string, number> = {};
  for (const s of input.stages) {
    const name = `${s.lang}/${s.stage}`;
    funnels[name] = s.funnel;
    const cost = (s.promptTokens * config.llm.pricing.inputPerMTok + s.completionTokens * config.llm.pricing.outputPerMTok) / 1e6;
    llm[name] = { calls: s.calls, promptTokens: s.promptTokens, completionTokens: s.completionTokens, estimatedCostUsd: Math.round(cost * 1e4) / 1e4 };
    byStageMs[name] = s.ms;
  }
  return {
    name: 'ultralink',
    createdAt: finishedAt,
    configHash: createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16),
    seed: config.seed,
    codeVersion: CODE_VERSION,
    models: { dialogue: model, translate: model, culture_filter: model },
    promptPacks: packs,
    languages: [...new Set(input.stages.map((s) => s.lang))],
    files: Object.fromEntries(stats.files.map((f) => [f.file, { dialogues: f.acc.dialogues, turns: f.acc.turns }])),
    funnels,
    llm,
    timings: { startedAt: input.startedAt, finishedAt, totalMs: Date.parse(finishedAt) - Date.parse(input.startedAt), byStageMs },
  } as DatasetManifest;
}
