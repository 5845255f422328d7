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
import { datasetManifestSchema, renderDatasetCard } from '../core/export/card';
import { buildManifest, describeQualityFailure, noteProvenance, type Provenance, type StageSummary } from '../core/export/manifest';
import { stripDocumentWith, templateSplitter } from '../core/export/formats';
import { registryModelLicence } from '../llm/model-acquire';
import { datasetFileName, sidecarFileName, type SidecarEntry, type Subset } from '../core/export/stats';
import { computeDatasetReport, writeDatasetReport, REPORT_FILES } from '../dataset/report';
import { datasetPrefix, dialogueKey, translationKey } from '../names';
import { loadDialoguePack } from '../prompts/load';
import { getJson, getJsonl, putJson } from '../storage/json';
import type { BuildContext, ShardManifest } from './build-context';
import { filterPackOf } from './judge';
import { keptInOrder } from './sources';
import type { StoredTranslation } from './translate';
import type { StoredDialogue } from './dialogue';
import { MissingInputError, PermanentError } from '../core/errors';

const CODE_VERSION: string = require('../../package.json').version;
/** Heartbeat period of assembly; well under any configured heartbeat timeout (tests use 3 s). */
const HEARTBEAT_MS = 1_000;
/** The judge (judge.ts) uses the English filter pack whatever the source language. */
const FILTER_PACK_KEY = 'en.filter';

/** What the build workflow hands to assembly: refs and counts only. */
export interface AssembleInput {
  buildId: string;
  /** Filtered shared chat set and the English sources, for English pass-through. */
  sources: Partial<Record<'chat' | 'math' | 'code', string>>;
  stages: StageSummary[];
  startedAt: string;
}

/** Where the dataset went, lines per file, and which files break the quality thresholds. */
export interface AssembleResult {
  datasetPrefix: string;
  /** Dataset file base name → dialogues written. */
  files: Record<string, number>;
  /** True when no file breaks a `quality` threshold of the config. */
  qualityPassed: boolean;
  /** Base names of the files that break at least one threshold, sorted. */
  failingFiles: string[];
  /** One line per broken threshold: `file: threshold value (limit L)`; an empty file's line names its drop reasons. */
  qualityFailures: string[];
  /** Files the build was asked for that came out with fewer than `quality.minRecords` records, sorted. */
  emptyFiles: string[];
}

/** Assembly activities over the shared build context. */
export function createAssembleActivities(ctx: BuildContext) {
  return {
    /** Writes the final dataset folder of a build; rerunning it rewrites the same files. */
    async assembleDataset(input: AssembleInput): Promise<AssembleResult> {
      const activity = Context.current();
      let phase = 'start';
      // Liveness only: the report pass has no natural unit to heartbeat per, and a rerun starts over at no LLM cost.
      const ticker = setInterval(() => activity.heartbeat(phase), HEARTBEAT_MS);
      try {
        const config = await ctx.configOf(input.buildId);
        const prefix = datasetPrefix(input.buildId);
        // The stages that ran, with their quotas: a stage that drew speculatively may have kept more than asked, and
        // its file gets the first `quota` in draw order.
        const ran = new Map(input.stages.map((s) => [`${s.lang}/${s.stage}`, s.quota]));
        const files: Record<string, number> = {};
        const prov: Provenance = { models: {}, packs: {} };
        const templates: Record<string, string> = {};
        for (const lang of Object.keys(config.languages)) {
          if (ran.has(`${lang}/chat_specific`)) {
            phase = `${lang}/chat_specific`;
            const pack = loadDialoguePack(lang);
            templates[lang] = pack.firstTurnFraming;
            files[datasetFileName(lang, 'chat_specific')] = await writeChatSpecific(ctx, input.buildId, lang, pack, config.dialogue.includeDocumentInFirstTurn, prefix, prov, ran.get(`${lang}/chat_specific`));
          }
          for (const subset of ['chat_agnostic', 'math', 'code'] as const) {
            const source = subset === 'chat_agnostic' ? 'chat' : subset;
            phase = `${lang}/${subset}`;
            const passThrough = lang === config.agnostic.sourceLang && config.agnostic.englishFullSets;
            if (passThrough && input.sources[source]) files[datasetFileName(lang, subset)] = await writePassThrough(ctx, input.sources[source]!, lang, subset, prefix);
            else if (!passThrough && ran.has(`${lang}/${subset}`)) files[datasetFileName(lang, subset)] = await writeTranslated(ctx, input.buildId, lang, subset, prefix, prov, ran.get(`${lang}/${subset}`));
          }
        }
        if (input.stages.some((s) => s.stage === 'culture_filter')) {
          // no translated chat record named the filter pack (e.g. an English-only build): it is the shipped one
          if (!prov.packs[FILTER_PACK_KEY]) noteProvenance(prov.packs, FILTER_PACK_KEY, filterPackOf().version);
          noteProvenance(prov.models, 'culture_filter', ctx.gateway.model);
        }

        phase = 'report';
        const lid = await ctx.langId();
        const report = await computeDatasetReport(
          { storage: ctx.storage, prefix },
          {
            quality: config.quality,
            langId: (text) => lid.detect(text),
            // the sidecar's bare question wins; the template split only serves lines without one
            stripDocument: Object.keys(templates).length ? stripDocumentWith(templateSplitter(templates)) : undefined,
          },
        );
        await writeDatasetReport(report, { storage: ctx.storage, prefix });

        phase = 'manifest';
        const manifest = buildManifest({ config, stages: input.stages, startedAt: input.startedAt, finishedAt: new Date().toISOString(), prov, stats: report.stats, codeVersion: CODE_VERSION, configHash: createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16), licenceOf: registryModelLicence });
        const checked = datasetManifestSchema.safeParse(manifest);
        if (!checked.success) {
          throw new PermanentError('InvalidManifest', `manifest.json does not validate: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        }
        const failures = report.quality.failures;
        const failingFiles = [...new Set(failures.map((f) => f.file))].sort();
        await putJson(ctx.storage, `${prefix}/manifest.json`, {
          ...manifest,
          quality: { passed: failures.length === 0, failingFiles, failures, reportFiles: [...REPORT_FILES] },
        });
        await ctx.storage.put(`${prefix}/README.md`, renderDatasetCard(manifest, report.stats));
        const emptyFiles = failures.filter((f) => f.threshold === 'minRecords').map((f) => f.file).sort();
        return { datasetPrefix: prefix, files, qualityPassed: failures.length === 0, failingFiles, qualityFailures: failures.map((f) => describeQualityFailure(f, input.stages)), emptyFiles };
      } finally {
        clearInterval(ticker);
      }
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

/** The records behind kept indexes, in draw order; a kept index without its record is a bug. */
async function* storedRecords<T>(ctx: BuildContext, kept: number[], keyOf: (index: number) => string): AsyncGenerator<T> {
  for (const index of kept) {
    const record = await getJson<T>(ctx.storage, keyOf(index));
    if (record === undefined) throw new MissingInputError(`${keyOf(index)} is missing from storage`);
    yield record;
  }
}

/** Sidecar line of a dialogue: the bare question and document (so statistics and exports need no template) plus provenance. */
type ChatSidecarLine = SidecarEntry & Omit<StoredDialogue, 'segmentIndex' | 'document' | 'turns' | 'kinds'> & { turnKinds: StoredDialogue['kinds'] };

async function writeChatSpecific(ctx: BuildContext, buildId: string, lang: string, pack: DialoguePack, includeDocument: boolean, prefix: string, prov: Provenance, quota?: number): Promise<number> {
  const kept = await keptInOrder(ctx, buildId, lang, 'chat_specific', quota);
  const dialogues = () => storedRecords<StoredDialogue>(ctx, kept, (i) => dialogueKey(buildId, lang, i));
  const count = await writeLines(
    ctx,
    `${prefix}/${datasetFileName(lang, 'chat_specific')}`,
    (async function* () {
      let n = 0;
      for await (const d of dialogues()) {
        noteProvenance(prov.models, 'dialogue', d.model);
        noteProvenance(prov.packs, `${lang}.dialogue`, d.packVersion);
        yield formatDialogueLine({ lang, index: n++, background: d.document, turns: d.turns, pack, includeDocument });
      }
    })(),
  );
  await writeLines(
    ctx,
    `${prefix}/${sidecarFileName(lang)}`,
    (async function* () {
      let n = 0;
      for await (const d of dialogues()) {
        const line: ChatSidecarLine = {
          id: `${lang}_chat_specific_${n++}`,
          // turns[0] is the question as generated, before the first-turn framing adds the document
          question: d.turns[0],
          document: d.document.trim(),
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
        yield line;
      }
    })(),
  );
  return count;
}

async function writeTranslated(ctx: BuildContext, buildId: string, lang: string, subset: Subset, prefix: string, prov: Provenance, quota?: number): Promise<number> {
  const kept = await keptInOrder(ctx, buildId, lang, subset, quota);
  const records = () => storedRecords<StoredTranslation>(ctx, kept, (i) => translationKey(buildId, lang, subset, i));
  const count = await writeLines(
    ctx,
    `${prefix}/${datasetFileName(lang, subset)}`,
    (async function* () {
      let n = 0;
      for await (const r of records()) {
        noteProvenance(prov.models, 'translate', r.model);
        // chat records name both packs they went through: `<filter version>+<translate version>`
        const parts = r.packVersion.split('+');
        noteProvenance(prov.packs, `${lang}.translate`, parts[parts.length - 1]);
        if (parts.length > 1) noteProvenance(prov.packs, FILTER_PACK_KEY, parts[0]);
        yield { id: `${lang}_${subset}_${n++}`, data: r.turns };
      }
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
  const manifest = await getJson<ShardManifest>(ctx.storage, manifestKey);
  if (!manifest) throw new MissingInputError(`${manifestKey} is missing from storage`);
  return writeLines(
    ctx,
    `${prefix}/${datasetFileName(lang, subset)}`,
    (async function* () {
      let n = 0;
      for (const shard of manifest.shards) {
        const items = await getJsonl<AgnosticItem>(ctx.storage, shard.key);
        if (!items) throw new MissingInputError(`shard ${shard.key} of ${manifestKey} is missing from storage`);
        for (const item of items) yield { id: `${lang}_${subset}_${n++}`, data: item.turns };
      }
    })(),
  );
}
