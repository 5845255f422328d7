/**
 * One batch of draw positions of an LLM stage: a dialogue or a translated item is one activity (its calls stored
 * as they finish), a judgement one activity per call, so a crash repeats at most the calls in flight;
 * items run concurrently up to a bound, and the batch's kept items are recorded in storage under the batch's
 * first position, so assembly can list them in draw order.
 */
import { CancellationScope, condition, getExternalWorkflowHandle, isCancellation, setHandler, workflowInfo } from '@temporalio/workflow';
import type { DialogueOutcome } from '../activities/dialogue';
import type { Config } from '../config';
import { addCallCost, costUsd, type CallOutcome } from '../core/cost';
import { planFollowUps, type QuestionKind } from '../core/dialogue/plan';
import { permutation } from '../core/agnostic/sample';
import { aimdNext, aimdSlots, controlSignal, initialControl, newerControl, spendSignal, stageCap, type ControlSettings } from './control';
import { llmActivities, llmItemActivities, workActivities } from './proxies';

/** The LLM stages that run under the exact-quota fan-out. */
export type ItemStage = 'chat_specific' | 'judge' | 'chat_agnostic' | 'math' | 'code';

/** Where a stage's items come from: a manifest in storage listing `count` items. */
export interface StageSource {
  manifestKey: string;
  count: number;
  /** Key of the draw order; streams with the same key draw the same items (agnostic chat is shared, §2.4). */
  orderKey: string;
}

export interface BatchInput {
  buildId: string;
  lang: string;
  stage: ItemStage;
  config: Config;
  source: StageSource;
  from: number;
  to: number;
  /** Live settings when the batch started (later changes arrive by `controlSignal`). */
  control?: ControlSettings;
  /** The stage's adaptive concurrency when the batch started (default: the ceiling). */
  aimd?: number;
}

export interface BatchResult {
  stage: ItemStage;
  from: number;
  kept: number;
  dropped: number;
  byReason: Record<string, number>;
  /** Dialogues that ended before the planned end, by reason (not drops: the last good turn is kept). */
  endedEarly: Record<string, number>;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** 429s the batch's LLM calls met; the adaptive concurrency at the end and its lowest point. */
  rateLimited?: number;
  aimd?: number;
  aimdMin?: number;
}

/** The outcome of one item: a dialogue's has every field an item can have (a judgement or translation never ends early). */
type ItemOutcome = DialogueOutcome & { sourceIndex: number };

/**
 * Admission of the batch's LLM calls: none starts while paused, at most the live concurrency run at once,
 * and that concurrency adapts (AIMD) to the 429s the calls report. Decisions come only from activity results
 * and signals, so replay reproduces them.
 */
class LlmGate {
  control: ControlSettings;
  aimd: number;
  aimdMin: number;
  inFlight = 0;
  /** Scopes of running multi-call activities (dialogues, translated items), cancelled on pause so they stop between calls. */
  private readonly pausable = new Set<CancellationScope>();
  rateLimited = 0;
  promptTokens = 0;
  completionTokens = 0;

  constructor(
    private readonly config: Config,
    private readonly input: BatchInput,
  ) {
    this.control = input.control ?? initialControl();
    this.aimd = Math.min(input.aimd ?? this.ceiling(), this.ceiling());
    this.aimdMin = this.aimd;
  }

  private lastReportAt?: number;

  /**
   * Reports the batch's cumulative spend to the build, only while a budget is set and at most every
   * SPEND_REPORT_MS (plus once at the end): one signal per LLM call would flood the build's history at scale.
   */
  reportSpend(final: boolean): void {
    if (!this.control.budgeted || this.promptTokens + this.completionTokens === 0) return;
    const now = Date.now(); // workflow time: deterministic on replay
    if (!final && this.lastReportAt !== undefined && now - this.lastReportAt < SPEND_REPORT_MS) return;
    this.lastReportAt = now;
    reportSpend(this.input, this.promptTokens, this.completionTokens);
  }

  /** The stage's cap (live-set or configured), else one worker's slots: the scale of the AIMD state. */
  ceiling(): number {
    return stageCap(this.control, this.config) ?? Math.max(1, this.config.llm.concurrency);
  }

  /** Calls allowed in flight now: the batch's share of the stage's concurrency, scaled down as its AIMD falls on 429s. */
  slots(): number {
    const slots = Math.min(this.ceiling(), aimdSlots(this.aimd));
    const share = this.control.batchShare;
    return share === undefined ? slots : Math.max(1, Math.floor((share * slots) / this.ceiling()));
  }

  /** Takes newer live settings; a pause reaches running dialogues too, which stop before their next call. */
  setControl(c: ControlSettings): void {
    this.control = newerControl(this.control, c);
    if (this.control.paused) for (const scope of this.pausable) scope.cancel();
  }

  /**
   * Runs one LLM activity once admitted, and feeds its 429 count to the AIMD state. A `pausable` activity
   * (several calls in turn) is cancelled by a pause and started again once admitted; it has stored the calls
   * it finished, so the new attempt goes on where the old one stopped.
   */
  async run<T extends CallOutcome>(call: () => Promise<T>, opts: { pausable?: boolean } = {}): Promise<T> {
    const admitted = () => !this.control.paused && this.inFlight < this.slots();
    for (;;) {
      // Several waiters wake in one activation: each re-checks after the ones before it took their slot.
      while (!admitted()) await condition(admitted);
      const scope = new CancellationScope();
      if (opts.pausable) this.pausable.add(scope);
      this.inFlight += 1;
      try {
        const r = await scope.run(call);
        this.record(r);
        return r;
      } catch (err) {
        // Only a pause cancels this scope on its own (the server retries an activity that stops by itself):
        // unless the batch itself is being cancelled, wait for the unpause and go on.
        if (isCancellation(err) && !CancellationScope.current().consideredCancelled) continue;
        throw err;
      } finally {
        this.inFlight -= 1;
        this.pausable.delete(scope);
      }
    }
  }

  private record(r: CallOutcome): void {
    if (r.promptTokens + r.completionTokens > 0) {
      this.promptTokens += r.promptTokens;
      this.completionTokens += r.completionTokens;
      this.reportSpend(false);
    }
    const limited = r.rateLimited ?? 0;
    this.rateLimited += limited;
    this.aimd = aimdNext(this.aimd, limited, this.ceiling(), this.config.control.aimd);
    this.aimdMin = Math.min(this.aimdMin, this.aimd);
  }
}

/** Minimum workflow time between two spend reports of one batch (the budget may overshoot by about this much spend). */
const SPEND_REPORT_MS = 15_000;

/** Sends the batch's cumulative estimated spend to the build (by workflow id; a build-less test run ignores the failure). */
function reportSpend(input: BatchInput, prompt: number, completion: number): void {
  const usd = costUsd(prompt, completion, input.config.llm.pricing);
  getExternalWorkflowHandle(input.buildId)
    .signal(spendSignal, { source: workflowInfo().workflowId, usd })
    .catch(() => undefined);
}

/** Items of one batch in flight at once when the stage has no explicit cap to share out (batches then take any free worker slot). */
function itemConcurrency(config: Config): number {
  return Math.max(1, Math.min(16, config.llm.concurrency));
}

/** Processes draw positions [from, to) and records the kept items. */
export async function itemBatchWorkflow(input: BatchInput): Promise<BatchResult> {
  const { config, source, from, to } = input;
  const order = permutation(source.count, config.seed, 'draw', source.orderKey);
  const positions = Array.from({ length: to - from }, (_, k) => from + k);
  const gate = new LlmGate(config, input);
  setHandler(controlSignal, (c) => {
    gate.setControl(c);
  });
  // With a share from the stage the gate alone bounds the calls, so every item may wait at it (its share can grow).
  const width = input.control?.batchShare !== undefined ? positions.length : itemConcurrency(config);
  const outcomes = await mapConcurrent(positions, width, (p) => processItem(input, gate, order(p)));
  gate.reportSpend(true);
  await workActivities(config).recordBatch({
    buildId: input.buildId,
    lang: input.lang,
    stage: input.stage,
    from,
    keptSourceIndices: outcomes.filter((o) => o.kept).map((o) => o.sourceIndex),
  });
  return { ...summarise(input.stage, from, outcomes), rateLimited: gate.rateLimited, aimd: gate.aimd, aimdMin: gate.aimdMin };
}

function processItem(input: BatchInput, gate: LlmGate, sourceIndex: number): Promise<ItemOutcome> {
  switch (input.stage) {
    case 'chat_specific':
      return runDialogue(input, gate, sourceIndex);
    case 'judge':
      return runJudge(input, gate, sourceIndex);
    default:
      return runTranslation(input, gate, sourceIndex);
  }
}

/**
 * Paper §2.1.2: initial question and answer, then in-depth or expansive follow-ups until the seeded plan ends;
 * the dialogue activity runs the turns and holds one of the gate's slots throughout (one call at a time).
 */
async function runDialogue(input: BatchInput, gate: LlmGate, segmentIndex: number): Promise<ItemOutcome> {
  const { buildId, lang, config, source } = input;
  const plan: QuestionKind[] = ['initial', ...planFollowUps(config.seed, `${lang}:${segmentIndex}`, config.dialogue)];
  const r = await gate.run(() => llmItemActivities(config).writeDialogue({ buildId, lang, segmentsKey: source.manifestKey, segmentIndex, plan }), { pausable: true });
  return { sourceIndex: segmentIndex, ...r };
}

/** Paper §2.2.1: the multi-criteria judge; an unparsable verdict is asked once more, then dropped as unjudged. */
async function runJudge(input: BatchInput, gate: LlmGate, sourceIndex: number): Promise<ItemOutcome> {
  const { buildId, lang, config, source } = input;
  const llm = llmActivities(config);
  const out: ItemOutcome = { sourceIndex, kept: false, calls: 0, promptTokens: 0, completionTokens: 0 };
  for (let attempt = 0; attempt <= config.agnostic.judgeRetries; attempt++) {
    const verdict = await gate.run(() => llm.judgeConversation({ buildId, lang, sourceKey: source.manifestKey, sourceIndex, attempt }));
    addCallCost(out, verdict);
    if (verdict.outcome === 'unparsable') continue;
    return verdict.outcome === 'keep' ? { ...out, kept: true } : { ...out, reason: verdict.reason };
  }
  return { ...out, reason: 'agnostic_unjudged' };
}

/** Paper §2.2.2: translate every text of the item (turn by turn); a failed check is retried, then the item dropped. */
async function runTranslation(input: BatchInput, gate: LlmGate, sourceIndex: number): Promise<ItemOutcome> {
  const { buildId, lang, stage, config, source } = input;
  const r = await gate.run(() => llmItemActivities(config).translateItem({ buildId, lang, stage, sourceKey: source.manifestKey, sourceIndex }), { pausable: true });
  return { sourceIndex, ...r };
}

function summarise(stage: ItemStage, from: number, outcomes: ItemOutcome[]): BatchResult {
  const r: BatchResult = { stage, from, kept: 0, dropped: 0, byReason: {}, endedEarly: {}, calls: 0, promptTokens: 0, completionTokens: 0 };
  for (const o of outcomes) {
    if (o.kept) r.kept += 1;
    else {
      r.dropped += 1;
      r.byReason[o.reason ?? 'unknown'] = (r.byReason[o.reason ?? 'unknown'] ?? 0) + 1;
    }
    if (o.endedEarly) r.endedEarly[o.endedEarly] = (r.endedEarly[o.endedEarly] ?? 0) + 1;
    addCallCost(r, o);
  }
  return r;
}

/** Runs `fn` over items with at most `limit` in flight, keeping results in input order. */
async function mapConcurrent<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return results;
}
