/**
 * Live progress of a build for the terminal: one bar per language × stage with rate, ETA, tokens and cost.
 * Running stage workflows answer their `progress` query; closed ones are read from the search attributes the
 * workflows upsert (the same data the Temporal UI's list shows). Pure rendering first, then the polling loop.
 */
import type { Client } from '@temporalio/client';
import { costUsd, type Pricing } from '../core/cost';

/** What a stage workflow's `progress` query returns, as far as the terminal needs it. */
export interface StageProgressSnapshot {
  done: number;
  total: number;
  dropped?: number;
  inFlight?: number;
  calls?: number;
  tokens?: number;
  promptTokens?: number;
  completionTokens?: number;
}

/** One language × stage as the terminal shows it. */
export interface StageRow {
  lang: string;
  stage: string;
  /** Workflow status, lower case (running, completed, failed, …). */
  status: string;
  /** Units done; undefined when the stage reports only a percent. */
  done?: number;
  /** Planned units; undefined when only a percent is known. */
  total?: number;
  percent?: number;
  dropped?: number;
  inFlight?: number;
  calls?: number;
  tokens?: number;
  costUsd?: number;
  /** Units per second over the recent samples. */
  rate?: number;
  /** Seconds to go at `rate`. */
  etaSeconds?: number;
}

/** One observation of a stage's done count, for rate and ETA. */
export interface ProgressSample {
  atMs: number;
  done: number;
}

/** A `width`-cell bar for `fraction` in [0, 1] (clamped). */
export function progressBar(fraction: number, width = 20): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const full = Math.round(f * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

/** `1h02m`, `3m05s`, `42s`; `-` when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** `950`, `12.3k`, `4.6M`. */
export function formatCount(n: number | undefined): string {
  if (n === undefined) return '-';
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/**
 * Estimated USD for the tokens: exact when the prompt/completion split is known, otherwise every token at the
 * mean of the two prices (the split is unknown, so neither extreme is assumed).
 */
/**
 * How the terminal prices a build: at the config's API prices, or `'local'` for the embedded model, whose calls
 * cost no money: its rows show tokens only, never a dollar figure that would read as a bill.
 */
export type DisplayPricing = Pricing | 'local';

/** The display pricing of a build's LLM config: local when no endpoint is set (the embedded model). */
export function displayPricing(llm: { baseUrl?: string; pricing: Pricing }): DisplayPricing {
  return llm.baseUrl === undefined ? 'local' : llm.pricing;
}

export function estimateCost(p: Pick<StageProgressSnapshot, 'tokens' | 'promptTokens' | 'completionTokens'>, pricing: Pricing): number {
  if (p.promptTokens !== undefined && p.completionTokens !== undefined) return costUsd(p.promptTokens, p.completionTokens, pricing);
  // Only a total is known (older progress): priced as half prompt, half completion.
  const half = (p.tokens ?? 0) / 2;
  return costUsd(half, half, pricing);
}

/** Rate (done/s) over the samples and the ETA to `total`; undefined while there is no movement to measure. */
export function rateAndEta(samples: readonly ProgressSample[], total: number | undefined): { rate?: number; etaSeconds?: number } {
  if (samples.length < 2) return {};
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const seconds = (last.atMs - first.atMs) / 1000;
  if (seconds <= 0) return {};
  const rate = (last.done - first.done) / seconds;
  if (total === undefined) return { rate };
  if (last.done >= total) return { rate, etaSeconds: 0 };
  return rate > 0 ? { rate, etaSeconds: (total - last.done) / rate } : { rate };
}

/** Appends a sample and keeps only those within `windowMs` of it (a recent rate, not the lifetime mean). */
export function pushSample(samples: ProgressSample[], sample: ProgressSample, windowMs = 30_000): ProgressSample[] {
  const kept = samples.filter((s) => sample.atMs - s.atMs <= windowMs && s.atMs <= sample.atMs);
  kept.push(sample);
  return kept;
}

/** A row from a live `progress` query answer. */
export function rowFromQuery(lang: string, stage: string, p: StageProgressSnapshot, pricing: DisplayPricing): StageRow {
  return {
    lang,
    stage,
    status: 'running',
    done: p.done,
    total: p.total,
    percent: p.total > 0 ? Math.floor((100 * Math.min(p.done, p.total)) / p.total) : 100,
    dropped: p.dropped,
    inFlight: p.inFlight,
    calls: p.calls,
    tokens: p.tokens,
    costUsd: pricing !== 'local' && (p.tokens !== undefined || p.promptTokens !== undefined) ? estimateCost(p, pricing) : undefined,
  };
}

/** What a finished quota stage returns (QuotaStageResult), as far as the terminal needs it. */
export interface StageResultSnapshot {
  quota: number;
  kept: number;
  dropped: number;
  calls: number;
  promptTokens: number;
  completionTokens: number;
}

/** Whether a workflow result looks like a quota stage's (knowledge returns something else). */
export function isStageResult(r: unknown): r is StageResultSnapshot {
  const o = r as Record<string, unknown> | undefined;
  return typeof o === 'object' && o !== null && ['quota', 'kept', 'dropped', 'promptTokens', 'completionTokens'].every((k) => typeof o[k] === 'number');
}

/** A row from a completed quota stage's result: exact counts, tokens and cost. */
export function rowFromResult(lang: string, stage: string, r: StageResultSnapshot, pricing: DisplayPricing): StageRow {
  return {
    lang,
    stage,
    status: 'completed',
    // A speculative stage may keep more than asked; the dataset gets the quota.
    done: Math.min(r.kept, r.quota),
    total: r.quota,
    percent: r.quota > 0 ? Math.floor((100 * Math.min(r.kept, r.quota)) / r.quota) : 100,
    dropped: r.dropped,
    calls: r.calls,
    tokens: r.promptTokens + r.completionTokens,
    costUsd: pricing === 'local' ? undefined : estimateCost(r, pricing),
  };
}

/** A row from a workflow's search attributes (closed stages, or stages without a progress query). */
export function rowFromSearchAttributes(lang: string, stage: string, status: string, sa: Record<string, unknown[] | undefined>): StageRow {
  const done = sa.UltralinkDone?.[0];
  const percent = sa.UltralinkProgress?.[0];
  const closedOk = status === 'completed';
  return {
    lang,
    stage,
    status,
    done: typeof done === 'number' ? done : undefined,
    percent: typeof percent === 'number' ? percent : closedOk ? 100 : undefined,
  };
}

/** One terminal line of a row: language, stage, bar, counts, rate, ETA, tokens, cost, status. */
export function renderRow(r: StageRow): string {
  const fraction = r.percent !== undefined ? r.percent / 100 : r.total ? (r.done ?? 0) / r.total : 0;
  const pct = r.percent !== undefined ? `${String(r.percent).padStart(3)}%` : '   ?';
  const done = r.done ?? '-';
  const count = r.total !== undefined ? `${done}/${r.total}` : `${done}`;
  const parts = [`${r.lang.padEnd(3)} ${r.stage.padEnd(14)} ${progressBar(fraction)} ${pct} ${count.padStart(9)}`];
  if (r.rate !== undefined) parts.push(`${r.rate.toFixed(2)}/s`);
  if (r.status === 'running') parts.push(`eta ${formatDuration(r.etaSeconds)}`);
  if (r.dropped) parts.push(`dropped ${r.dropped}`);
  if (r.inFlight) parts.push(`in flight ${r.inFlight}`);
  if (r.tokens !== undefined) parts.push(`tok ${formatCount(r.tokens)}`);
  if (r.costUsd !== undefined) parts.push(`$${r.costUsd.toFixed(4)}`);
  parts.push(r.status);
  return parts.join('  ');
}

/** Rows sorted by language then stage, plus a total line of tokens and cost when any row has them. */
export function renderRows(rows: readonly StageRow[]): string[] {
  const sorted = [...rows].sort((a, b) => a.lang.localeCompare(b.lang) || a.stage.localeCompare(b.stage));
  const lines = sorted.map(renderRow);
  const withTokens = sorted.filter((r) => r.tokens !== undefined);
  if (withTokens.length > 0) {
    const tokens = withTokens.reduce((n, r) => n + (r.tokens ?? 0), 0);
    const priced = sorted.filter((r) => r.costUsd !== undefined);
    const cost = priced.reduce((n, r) => n + (r.costUsd ?? 0), 0);
    lines.push(`total: tok ${formatCount(tokens)}  ${priced.length > 0 ? `$${cost.toFixed(4)}` : 'local model, no API cost'}`);
  }
  return lines;
}

/** Splits a stage workflow id `<build>/<lang>/<stage>`; undefined for the build, language and batch workflows. */
export function parseStageWorkflowId(buildId: string, workflowId: string): { lang: string; stage: string } | undefined {
  if (!workflowId.startsWith(`${buildId}/`)) return undefined;
  const rest = workflowId.slice(buildId.length + 1).split('/');
  return rest.length === 2 ? { lang: rest[0]!, stage: rest[1]! } : undefined;
}

/**
 * The state to show: the workflow's own (running, paused, review, done, …) while it runs or once it completed;
 * the server's status once it closed otherwise, since a terminated or timed-out build had no chance to say so.
 */
function shownState(status: string, sa: Record<string, unknown[] | undefined>): string {
  if (status !== 'RUNNING' && status !== 'COMPLETED' && status !== 'CONTINUED_AS_NEW') return status.toLowerCase();
  return String(sa.UltralinkState?.[0] ?? status.toLowerCase());
}

/** `list` line: id, state, build stage and progress, UI link. */
export function renderBuildLine(b: { buildId: string; status: string; startTime?: Date; searchAttributes: Record<string, unknown> }, uiUrl: string): string {
  const sa = b.searchAttributes as Record<string, unknown[] | undefined>;
  const state = shownState(b.status, sa);
  const stage = String(sa.UltralinkStage?.[0] ?? '-');
  const pct = sa.UltralinkProgress?.[0];
  const progress = typeof pct === 'number' ? `${progressBar(pct / 100, 10)} ${pct}%` : '';
  return [b.buildId, b.status.padEnd(10), `state=${state}`.padEnd(26), `stage=${stage}`.padEnd(20), progress.padEnd(15), b.startTime?.toISOString() ?? '-', uiUrl].join('  ');
}

/** First line of the watch: the build's state (running, paused, budget_paused, …) and its current stage. */
export function renderBuildHeader(buildId: string, status: string, searchAttributes: Record<string, unknown>): string {
  const sa = searchAttributes as Record<string, unknown[] | undefined>;
  return `build ${buildId}  ${status.toLowerCase()}  state=${shownState(status, sa)}  stage=${String(sa.UltralinkStage?.[0] ?? '-')}`;
}

/** Options of the watcher. */
export interface WatchOptions {
  out?: NodeJS.WriteStream;
  everyMs?: number;
  pricing?: DisplayPricing;
  /** Called once the top build workflow is closed (the loop then ends by itself). */
  onClosed?: (status: string) => void;
}

/**
 * Reads every stage row of a build once: live queries for running stages, results for completed quota stages
 * (memoised in `results`: a closed workflow's result never changes), search attributes for the rest.
 */
export async function readStageRows(
  client: Client,
  buildId: string,
  pricing: DisplayPricing,
  results = new Map<string, unknown>(),
): Promise<{ rows: StageRow[]; buildStatus?: string; buildLine?: string }> {
  const rows: StageRow[] = [];
  const seen = new Set<string>();
  let buildStatus: string | undefined;
  for await (const w of client.workflow.list({ query: `UltralinkBuild = '${buildId}'` })) {
    if (w.workflowId === buildId) {
      buildStatus = w.status.name;
      continue;
    }
    const id = parseStageWorkflowId(buildId, w.workflowId);
    // A stage has one row: its newest run (the list is newest first); handed-over runs are not stages of their own.
    if (!id || seen.has(w.workflowId) || w.status.name === 'CONTINUED_AS_NEW') continue;
    seen.add(w.workflowId);
    const sa = w.searchAttributes as Record<string, unknown[] | undefined>;
    const status = w.status.name.toLowerCase();
    if (status === 'running') {
      const p = await client.workflow
        .getHandle(w.workflowId)
        .query<StageProgressSnapshot>('progress')
        .catch(() => undefined); // stages without a progress query (knowledge) fall back to the attributes
      if (p && typeof p.done === 'number' && typeof p.total === 'number') {
        rows.push(rowFromQuery(id.lang, id.stage, p, pricing));
        continue;
      }
    }
    if (status === 'completed') {
      if (!results.has(w.workflowId)) results.set(w.workflowId, await client.workflow.getHandle(w.workflowId, w.runId).result().catch(() => undefined));
      const r = results.get(w.workflowId);
      if (isStageResult(r)) {
        rows.push(rowFromResult(id.lang, id.stage, r, pricing));
        continue;
      }
    }
    rows.push(rowFromSearchAttributes(id.lang, id.stage, status, sa));
  }
  // The list may lag the build's close; describe is authoritative for the top workflow.
  const d = await client.workflow
    .getHandle(buildId)
    .describe()
    .catch(() => undefined);
  if (d) buildStatus = d.status.name;
  const buildLine = d ? renderBuildHeader(buildId, d.status.name, d.searchAttributes as Record<string, unknown>) : undefined;
  return { rows, buildStatus, buildLine };
}

const DEFAULT_PRICING: Pricing = { inputPerMTok: 0.5, outputPerMTok: 1.5 };

/** Polls the build's workflows every `everyMs` until the build closes or `stop()`; redraws in a TTY. */
export function watchBuild(client: Client, buildId: string, opts: WatchOptions = {}): { stop(): Promise<void>; closed: Promise<string | undefined> } {
  const out = opts.out ?? process.stdout;
  const everyMs = opts.everyMs ?? 2_000;
  const pricing = opts.pricing ?? DEFAULT_PRICING;
  const samples = new Map<string, ProgressSample[]>();
  const results = new Map<string, unknown>();
  let last = new Set<string>();
  let drawn = 0;
  let stopped = false;
  let closedStatus: string | undefined;
  const tick = async () => {
    const { rows, buildStatus, buildLine } = await readStageRows(client, buildId, pricing, results);
    const now = Date.now();
    for (const r of rows) {
      if (r.done === undefined) continue;
      const key = `${r.lang}/${r.stage}`;
      const s = pushSample(samples.get(key) ?? [], { atMs: now, done: r.done });
      samples.set(key, s);
      if (r.status === 'running') Object.assign(r, rateAndEta(s, r.total));
    }
    const lines = buildLine ? [buildLine, ...renderRows(rows)] : renderRows(rows);
    if (out.isTTY) {
      if (drawn > 0) out.write(`\x1b[${drawn}A`);
      for (const l of lines) out.write(`\x1b[2K${l}\n`);
      drawn = lines.length;
    } else {
      // Without a TTY only changed lines are printed, so a log file stays short.
      for (const l of lines) if (!last.has(l)) out.write(`${l}\n`);
      last = new Set(lines);
    }
    if (buildStatus && buildStatus !== 'RUNNING') closedStatus = buildStatus;
  };
  const closed = (async () => {
    while (!stopped && closedStatus === undefined) {
      await tick().catch(() => undefined); // the UI list lags a moment behind; a missed poll is harmless
      if (closedStatus !== undefined) break;
      await new Promise((r) => setTimeout(r, everyMs));
    }
    if (closedStatus === undefined) await tick().catch(() => undefined);
    if (closedStatus !== undefined) opts.onClosed?.(closedStatus);
    return closedStatus;
  })();
  return {
    closed,
    async stop() {
      stopped = true;
      await closed;
    },
  };
}
