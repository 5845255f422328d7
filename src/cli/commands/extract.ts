/**
 * `ultralink extract --dump PATH|URL --lang xx --out DIR [--index PATH|URL]`: the knowledge stage alone
 * (paper §2.1.1) through Temporal, with a progress bar read from the extraction activities' heartbeats; the
 * segments land in DIR as JSONL beside a manifest with the funnel.
 */
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ExtractCursor } from '../../activities/knowledge';
import { ConfigError, resolveConfig, stateDirOf, type Config } from '../../config';
import type { Funnel } from '../../core/stats';
import type { LlmBackend } from '../../llm/types';
import { newBuildId, stageWorkflowId } from '../../names';
import { createStorage } from '../../storage';
import { getJson } from '../../storage/json';
import { createWorkers } from '../../worker';
import type { KnowledgeResult, knowledgeWorkflow } from '../../workflows/knowledge';
import { clientFor, configFrom, withConfig } from '../common';
import { createProgressBar, type ProgressSample } from '../progress';

/** Heartbeats reach the server at most every 0.8 × this: short enough for a live bar, cheap for the server. */
const EXTRACT_HEARTBEAT_MS = 5_000;

/** A URL stays as given; a local path becomes absolute, since the worker may run elsewhere on this host. */
function location(p: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(p) && !/^[a-z]:\\/i.test(p) ? p : path.resolve(p);
}

/** The config with exactly one language, reading `dump`; unknown languages get their code as the lid.176 label. */
export function extractConfig(base: Config, lang: string, dump: string, index?: string, groups?: number): Config {
  const entry = base.languages[lang] ?? { fasttextLabel: lang, chatSpecific: 0 };
  return resolveConfig({
    ...base,
    languages: { [lang]: { ...entry, dump: location(dump), dumpIndex: index ? location(index) : undefined } },
    knowledge: { ...base.knowledge, ...(groups ? { rangeGroups: groups } : {}) },
    retry: { ...base.retry, heartbeatTimeoutMs: Math.min(base.retry.heartbeatTimeoutMs, EXTRACT_HEARTBEAT_MS) },
  });
}

/** Sums the live progress of every extraction activity seen so far (finished ones keep their last figures). */
async function pollProgress(client: Client, workflowId: string, seen: Map<string, ProgressSample>): Promise<ProgressSample> {
  const d = await client.workflow.getHandle(workflowId).describe();
  for (const a of d.raw.pendingActivities ?? []) {
    const payload = a.heartbeatDetails?.payloads?.[0];
    if (a.activityType?.name !== 'extractPages' || !payload) continue;
    const cursor = defaultPayloadConverter.fromPayload<ExtractCursor>(payload as never);
    if (cursor.progress) seen.set(String(a.activityId), { bytes: cursor.progress.bytesRead, totalBytes: cursor.progress.totalBytes, items: cursor.progress.pages });
  }
  const all = [...seen.values()];
  const sum = all.reduce((s, p) => ({ bytes: s.bytes + p.bytes, items: s.items + p.items, totalBytes: s.totalBytes }), { bytes: 0, items: 0, totalBytes: undefined as number | undefined });
  // One activity knows the dump's size; with range groups each knows only its range, so no overall ETA.
  if (all.length === 1) sum.totalBytes = all[0]!.totalBytes;
  return sum;
}

/** Copies the segment parts, in manifest order, into `out/segments.jsonl` and writes `out/manifest.json`. */
async function exportSegments(config: Config, result: KnowledgeResult, out: string, meta: Record<string, unknown>): Promise<string> {
  const storage = createStorage(config.storage, { stateDir: stateDirOf(config) });
  const manifest = await getJson<{ shards: Array<{ key: string; count: number }>; total: number; funnel: Funnel }>(storage, result.manifestKey);
  if (!manifest) throw new Error(`segments manifest ${result.manifestKey} missing from ${storage.location}`);
  mkdirSync(out, { recursive: true });
  const file = path.join(out, 'segments.jsonl');
  const sink = createWriteStream(file);
  for (const shard of manifest.shards) {
    const body = await storage.get(shard.key);
    if (!body) throw new Error(`segment part ${shard.key} missing from ${storage.location}`);
    if (!sink.write(body)) await once(sink, 'drain');
  }
  sink.end();
  await once(sink, 'finish');
  writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ ...meta, segments: manifest.total, pagesRead: result.pagesRead, funnel: manifest.funnel, file: 'segments.jsonl' }, null, 2) + '\n');
  return file;
}

/** The funnel as a table: one row per step with its drop reasons. */
export function funnelTable(funnel: Funnel): string {
  const rows = [['step', 'in', 'kept', 'dropped', 'reasons']];
  for (const [step, s] of Object.entries(funnel)) {
    const reasons = Object.entries(s.byReason).map(([r, n]) => `${r}=${n}`).join(' ');
    rows.push([step, String(s.total), String(s.kept), String(s.dropped), reasons]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 || c === 4 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd()).join('\n');
}

/** The innermost message of a failure chain (the activity's own error, e.g. the missing dump's path). */
function rootCause(err: unknown): string {
  let e = err as { message?: string; cause?: unknown };
  while (e.cause) e = e.cause as typeof e;
  return e.message ?? String(err);
}

/** Extraction needs no LLM: an in-process worker gets a backend that refuses calls instead of loading a model. */
const NO_LLM: LlmBackend = {
  model: 'none',
  chat: () => Promise.reject(new Error('ultralink extract runs no LLM calls')),
  listModels: () => Promise.resolve([]),
};

export function registerExtract(program: Command): void {
  withConfig(program.command('extract').description('run knowledge preparation alone: a Wikipedia dump to segments (JSONL) through Temporal'))
    .requiredOption('--dump <pathOrUrl>', 'pages-articles dump: .xml.bz2, .xml.gz, .xml.xz or .xml; local path, https URL or storage:<key>')
    .requiredOption('--lang <code>', 'language code (en, zh, ru, fr, es, or any with a config entry)')
    .requiredOption('--out <dir>', 'local directory for segments.jsonl and manifest.json')
    .option('--index <pathOrUrl>', 'multistream index (…-multistream-index.txt[.bz2]): byte-range groups run in parallel')
    .option('--groups <n>', 'byte-range groups of a multistream dump (default: config knowledge.rangeGroups)', (v) => Number(v))
    .option('--id <buildId>', 'build id (default: generated)')
    .option('--worker', 'also run a worker in this process (otherwise one must be running: ultralink worker)')
    .action(async (opts) => {
      if (!/^[a-z]{2,3}$/.test(opts.lang)) throw new ConfigError(`--lang must be a language code like en or zh, got '${opts.lang}'`);
      if (opts.groups !== undefined && !(Number.isInteger(opts.groups) && opts.groups > 0)) throw new ConfigError('--groups must be a positive integer');
      const config = extractConfig(configFrom(opts), opts.lang, opts.dump, opts.index, opts.groups);
      const buildId: string = opts.id ?? newBuildId(new Date(), randomBytes(2).toString('hex'));
      const workflowId = stageWorkflowId(buildId, opts.lang, 'knowledge');
      const client = await clientFor(config);
      const worker = opts.worker ? await createWorkers({ config, secrets: {}, backend: NO_LLM }) : undefined;
      const running = worker?.run();
      try {
        const handle = await client.workflow.start<typeof knowledgeWorkflow>('knowledgeWorkflow', {
          workflowId,
          taskQueue: config.temporal.workTaskQueue,
          args: [{ buildId, lang: opts.lang, config }],
          searchAttributes: { UltralinkBuild: [buildId], UltralinkLanguage: [opts.lang], UltralinkStage: ['knowledge'] },
          staticSummary: `ultralink extract ${opts.lang}: ${config.languages[opts.lang]!.dump}`,
        });
        console.error(`extract ${workflowId}\nUI      ${config.temporal.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`);
        const bar = createProgressBar(opts.lang, 'pages');
        const seen = new Map<string, ProgressSample>();
        let done = false;
        const polling = (async () => {
          while (!done) {
            // A missed poll (server busy) only delays the bar.
            await pollProgress(client, workflowId, seen).then((s) => bar.update(s), () => undefined);
            await new Promise((r) => setTimeout(r, 1_000));
          }
        })();
        let result: KnowledgeResult;
        try {
          result = await handle.result();
        } catch (err) {
          throw new Error(`extraction failed: ${rootCause(err)}`);
        } finally {
          done = true;
          await polling;
          bar.stop();
        }
        const file = await exportSegments(config, result, path.resolve(opts.out), { buildId, lang: opts.lang, dump: config.languages[opts.lang]!.dump, dumpIndex: config.languages[opts.lang]!.dumpIndex });
        console.log(funnelTable(result.funnel));
        console.log(`\n${result.pagesRead} pages read, ${result.segments} segments → ${file}`);
      } finally {
        worker?.shutdown();
        await running;
      }
    });
}
