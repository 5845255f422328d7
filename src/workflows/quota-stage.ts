/**
 * Exact-quota fan-out shared by every LLM stage (dialogues, judging, translation).
 * Draw positions are consumed in seeded order, in batches run as child workflows under a sliding window.
 * A batch is admitted only while kept + in-flight positions < quota (more with `control.speculation`, as drops show
 * they are needed), and assembly writes the first `quota` keepers in draw order: the shortest prefix of the draw
 * order holding `quota` keepers, whatever the completion order (deterministic).
 */
import { condition, continueAsNew, defineQuery, getExternalWorkflowHandle, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Config } from '../config';
import { emptyStats, mergeFunnels, type Funnel, type StepStats } from '../core/stats';
import { stageWorkflowId } from '../names';
import { BUILD_KEY, DONE_KEY, LANGUAGE_KEY, PROGRESS_KEY, STAGE_KEY, STATE_KEY } from '../search-attributes';
import { aimdSlots, controlSignal, executeControlled, initialControl, newerControl, stageCap, type ControlSettings } from './control';
import { itemBatchWorkflow, type BatchResult, type ItemStage, type StageSource } from './item-batch';

export interface QuotaStageInput {
  buildId: string;
  lang: string;
  stage: ItemStage;
  config: Config;
  /** Items to keep; more than the source holds ends `exhausted` (the culture filter asks for all and judges all). */
  quota: number;
  source: StageSource;
  /** Carried across continue-as-new. */
  state?: QuotaStageState;
  /** Live settings when the stage started (later changes arrive by `controlSignal`); carried across continue-as-new. */
  control?: ControlSettings;
  /** Test-only: continue-as-new after this many batches of one run, as if the server had suggested it. */
  continueAsNewAfterBatches?: number;
}

export interface QuotaStageState {
  nextDraw: number;
  kept: number;
  dropped: number;
  batches: number;
  funnel: Funnel;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** Runs of this stage so far (1 + continue-as-new count). */
  runs?: number;
  /** Adaptive concurrency (AIMD) after the last batch, its lowest point, and the 429s met. */
  aimd?: number;
  aimdMin?: number;
  rateLimited?: number;
  /** The review gate (control.reviewAfter) has been passed. */
  reviewed?: boolean;
}

export interface QuotaStageResult extends QuotaStageState {
  stage: ItemStage;
  quota: number;
  status: 'met' | 'exhausted';
}

/** What the `progress` query returns: `done` counts kept items towards `total` (the quota). */
export interface QuotaStageProgress {
  stage: ItemStage;
  lang: string;
  done: number;
  total: number;
  kept: number;
  dropped: number;
  drawn: number;
  inFlight: number;
  batches: number;
  calls: number;
  tokens: number;
  funnel: Funnel;
  /** Live control: paused (by the user, the budget or the review gate), the ceiling and the adaptive concurrency. */
  paused: boolean;
  review: boolean;
  concurrency: number;
  aimd: number;
  aimdMin: number;
  rateLimited: number;
}

/** Live counters of a stage, for the UI and `ultralink status`. */
export const progressQuery = defineQuery<QuotaStageProgress>('progress');

/** Batch children in flight for an LLM concurrency: enough to keep every slot busy, since a batch runs up to 16 items at once. */
export function maxBatchesInFlight(concurrency: number): number {
  return Math.max(1, Math.ceil(concurrency / 4));
}

/** Where the review gate stops admissions: positions beyond `reviewAfter` keepers wait until the gate is passed. */
export function reviewCap(reviewAfter: number | undefined, reviewed: boolean, kept: number, inFlightPositions: number): number {
  if (reviewAfter === undefined || reviewed) return Number.POSITIVE_INFINITY;
  return Math.max(0, reviewAfter - kept - inFlightPositions);
}

/**
 * Draw positions a stage wants in flight: the keepers it still needs, divided by the keep rate its finished draws
 * show ((kept + 1) / (kept + dropped + 1)), at most `speculation` times the need. At 1 that is exactly the positions
 * that could still be needed; above it, a stage whose model keeps failing the gates tries its next candidates side
 * by side instead of one at a time. Either way the kept items are the first `quota` keepers in draw order.
 */
export function candidatesWanted(quota: number, kept: number, dropped: number, speculation: number): number {
  const needed = Math.max(0, quota - kept);
  if (needed === 0 || speculation <= 1) return needed;
  return Math.ceil(needed * Math.min(speculation, (kept + dropped + 1) / (kept + 1)));
}

/** Size of the next batch: at most `batchSize`, never more positions than the stage wants in flight, nor more than remain. */
export function nextBatchSize(batchSize: number, wanted: number, inFlightPositions: number, sourceCount: number, nextDraw: number): number {
  return Math.max(0, Math.min(batchSize, wanted - inFlightPositions, sourceCount - nextDraw));
}

/** Adds one batch's counts into the state; the stage step keeps total = kept + dropped. */
export function absorbBatch(state: QuotaStageState, r: BatchResult): void {
  state.kept += r.kept;
  state.dropped += r.dropped;
  state.calls += r.calls;
  state.promptTokens += r.promptTokens;
  state.completionTokens += r.completionTokens;
  state.rateLimited = (state.rateLimited ?? 0) + (r.rateLimited ?? 0);
  if (r.aimd !== undefined) state.aimd = r.aimd;
  if (r.aimdMin !== undefined) state.aimdMin = Math.min(state.aimdMin ?? r.aimdMin, r.aimdMin);
  const step: StepStats = { ...emptyStats(), total: r.kept + r.dropped, kept: r.kept, dropped: r.dropped, byReason: r.byReason, tokens: r.promptTokens + r.completionTokens };
  const steps: Funnel = { [r.stage]: step };
  if (r.stage === 'chat_specific') {
    // Dialogues cut at the last good turn are kept; this step shows how many ran their planned course.
    const ended = Object.values(r.endedEarly).reduce((n, k) => n + k, 0);
    steps.full_length = { ...emptyStats(), total: r.kept, kept: r.kept - ended, dropped: ended, byReason: r.endedEarly };
  }
  state.funnel = mergeFunnels(state.funnel, steps);
}

/**
 * The `quota` funnel step: delivered vs asked. A shortfall is counted as the source running out; keepers past the
 * quota (speculative draws that passed after the quota was met) as `<stage>_over_quota`, since assembly writes
 * only the first `quota`.
 */
export function quotaStep(stage: ItemStage, quota: number, kept: number): StepStats {
  if (kept > quota) return { ...emptyStats(), total: kept, kept: quota, dropped: kept - quota, byReason: { [`${stage}_over_quota`]: kept - quota } };
  const shortfall = quota - kept;
  return { ...emptyStats(), total: quota, kept, dropped: shortfall, byReason: shortfall > 0 ? { [`${stage}_source_exhausted`]: shortfall } : {} };
}

/** Runs a stage to its exact quota; returns the counts (the kept items are in storage, listed by batch). */
export async function quotaStageWorkflow(input: QuotaStageInput): Promise<QuotaStageResult> {
  const { buildId, lang, stage, config, source } = input;
  const quota = Math.max(0, input.quota);
  // The culture filter judges every item: its quota is the source size, so reaching the end is its normal finish.
  const filterAll = stage === 'judge';
  const state: QuotaStageState = input.state ?? { nextDraw: 0, kept: 0, dropped: 0, batches: 0, funnel: {}, calls: 0, promptTokens: 0, completionTokens: 0 };
  state.runs = (state.runs ?? 0) + 1;
  let control = input.control ?? initialControl();
  // Settings forwarded to batches carry this run's own version: the review gate changes them without the build knowing.
  let batchVersion = 0;
  const reviewAfter = stage === 'chat_specific' ? config.control.reviewAfter[lang] : undefined;
  let reviewing = false;
  let reviewUnpauses = 0;
  const ceiling = () => stageCap(control, config) ?? Math.max(1, config.llm.concurrency);
  const concurrency = () => Math.min(ceiling(), aimdSlots(state.aimd ?? ceiling()));
  const paused = () => control.paused || reviewing;
  // An explicit cap (control.concurrency or `set --concurrency`) is split across the batches running: each holds a
  // share, re-sent when the number of batches or the cap moves it (as the last batches finish, those left get more).
  // Without one, batches take any free worker slot (no share): splitting would idle the slots of a batch's tail.
  const shareFor = (running: number) => (stageCap(control, config) === undefined ? undefined : Math.max(1, Math.floor(concurrency() / Math.max(1, running))));
  let share: number | undefined;
  const batchControl = (): ControlSettings => ({ ...control, paused: paused(), version: batchVersion, batchShare: share });
  const inflight = new Map<number, number>(); // first draw position -> batch size
  const finished: Array<{ from: number; result?: BatchResult; error?: unknown }> = [];
  let batchesThisRun = 0;
  let reportedPercent = -1;

  // Keepers the dataset gets: a speculative stage may keep more than its quota.
  const delivered = () => Math.min(state.kept, quota);
  const progress = (): QuotaStageProgress => ({
    stage,
    lang,
    done: delivered(),
    total: quota,
    kept: state.kept,
    dropped: state.dropped,
    drawn: state.nextDraw,
    inFlight: [...inflight.values()].reduce((n, s) => n + s, 0),
    batches: state.batches,
    calls: state.calls,
    tokens: state.promptTokens + state.completionTokens,
    funnel: state.funnel,
    paused: paused(),
    review: reviewing,
    concurrency: concurrency(),
    aimd: state.aimd ?? ceiling(),
    aimdMin: state.aimdMin ?? ceiling(),
    rateLimited: state.rateLimited ?? 0,
  });
  setHandler(progressQuery, progress);
  upsertSearchAttributes([
    { key: BUILD_KEY, value: buildId },
    { key: LANGUAGE_KEY, value: lang },
    { key: STAGE_KEY, value: stage },
  ]);
  const report = () => {
    const p = progress();
    const flag = reviewing ? ` · **review: paused after ${reviewAfter} dialogues, unpause to continue**` : p.paused ? ' · **paused**' : '';
    setCurrentDetails(
      `**${lang}/${stage}**: ${p.kept} / ${quota} kept, ${p.dropped} dropped, ${p.inFlight} in flight${flag}\n\n` +
        `draws ${p.drawn} / ${source.count} · batches ${p.batches} · LLM calls ${p.calls} · tokens ${p.tokens} · concurrency ${p.concurrency} (AIMD ${p.aimd.toFixed(1)}, 429s ${p.rateLimited}) · run ${state.runs}`,
    );
    // One history event per upsert: only when the whole percent moves.
    const percent = quota === 0 ? 100 : Math.floor((100 * delivered()) / quota);
    if (percent !== reportedPercent) {
      reportedPercent = percent;
      upsertSearchAttributes([
        { key: PROGRESS_KEY, value: percent },
        { key: DONE_KEY, value: delivered() },
      ]);
    }
  };
  report();
  // Forwarded whole to every batch in flight; a batch that just finished ignores it (the signal fails, harmlessly).
  const forward = (targets: Iterable<number> = inflight.keys()) => {
    batchVersion += 1;
    const settings = batchControl();
    for (const from of targets) {
      getExternalWorkflowHandle(stageWorkflowId(buildId, lang, stage, from))
        .signal(controlSignal, settings)
        .catch(() => undefined);
    }
  };
  setHandler(controlSignal, (c) => {
    const next = newerControl(control, c);
    if (next === control) return;
    control = next;
    share = shareFor(inflight.size);
    if (reviewing && (control.unpauses ?? 0) > reviewUnpauses) {
      reviewing = false;
      state.reviewed = true;
      upsertSearchAttributes([{ key: STATE_KEY, value: 'running' }]);
    }
    forward();
    report();
  });

  // A draw cap makes a stage whose model keeps failing the gates stop as `exhausted` instead of reading the whole source.
  const factor = config.control.maxDrawFactor;
  const batchSize = config.control.batchSize;
  const wanted = () => candidatesWanted(quota, state.kept, state.dropped, config.control.speculation);
  const drawLimit = filterAll || factor <= 0 ? source.count : Math.min(source.count, Math.ceil(quota * factor));
  // History stays bounded at any scale: once a new run is suggested, admit no more batches, drain, hand over.
  const handOver = () => workflowInfo().continueAsNewSuggested || (input.continueAsNewAfterBatches !== undefined && batchesThisRun >= Math.max(1, input.continueAsNewAfterBatches));
  const admissible = (): number => {
    if (paused() || inflight.size >= maxBatchesInFlight(concurrency()) || handOver()) return 0;
    const inFlightPositions = [...inflight.values()].reduce((n, s) => n + s, 0);
    return Math.min(nextBatchSize(batchSize, wanted(), inFlightPositions, drawLimit, state.nextDraw), reviewCap(reviewAfter, state.reviewed ?? false, state.kept, inFlightPositions));
  };
  for (;;) {
    const running = [...inflight.keys()];
    const admitted: Array<{ from: number; size: number }> = [];
    for (let size = admissible(); size > 0; size = admissible()) {
      admitted.push({ from: state.nextDraw, size });
      inflight.set(state.nextDraw, size);
      state.nextDraw += size;
      state.batches += 1;
      batchesThisRun += 1;
    }
    if (shareFor(inflight.size) !== share) {
      share = shareFor(inflight.size);
      if (running.length > 0) forward(running);
    }
    for (const { from, size } of admitted) {
      // All admitted batches start in one workflow task; completions arrive in any order through `finished`.
      void executeControlled(
        itemBatchWorkflow,
        {
          workflowId: stageWorkflowId(buildId, lang, stage, from),
          taskQueue: workflowInfo().taskQueue,
          args: [{ buildId, lang, stage, config, source, from, to: from + size, control: batchControl(), aimd: state.aimd }],
        },
        batchControl,
      ).then(
        (result) => finished.push({ from, result }),
        (error: unknown) => finished.push({ from, error }),
      );
    }
    if (inflight.size === 0) {
      if (!reviewing && reviewAfter !== undefined && !state.reviewed && state.kept >= reviewAfter && state.kept < quota) {
        // The review gate: stop here until someone has read the first dialogues and unpaused.
        reviewing = true;
        reviewUnpauses = control.unpauses ?? 0;
        upsertSearchAttributes([{ key: STATE_KEY, value: 'review' }]);
        report();
      }
      if (!paused()) break;
      await condition(() => !paused());
      continue;
    }
    await condition(() => finished.length > 0 || admissible() > 0);
    for (const f of finished.splice(0)) {
      if (f.error !== undefined) throw f.error;
      inflight.delete(f.from);
      absorbBatch(state, f.result!);
    }
    report();
  }
  const more = nextBatchSize(batchSize, wanted(), 0, drawLimit, state.nextDraw) > 0;
  if (more && handOver()) {
    await continueAsNew<typeof quotaStageWorkflow>({ ...input, state, control });
  }
  if (filterAll) return { ...state, stage, quota, status: 'met' };
  const funnel = mergeFunnels(state.funnel, { quota: quotaStep(stage, quota, state.kept) });
  return { ...state, funnel, stage, quota, status: state.kept >= quota ? 'met' : 'exhausted' };
}
