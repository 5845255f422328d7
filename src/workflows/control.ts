/**
 * Live control of a running build: the messages users and workflows exchange, and the pure state behind them.
 * The build receives pause/unpause/set and spend reports; it forwards one full-state `control` signal to its
 * children by workflow id, each of which forwards it to its own running children, so every level converges on
 * the latest settings whatever order signals arrive in. Children started later get the settings in their input.
 */
import { defineQuery, defineSignal, startChild, type ChildWorkflowOptions, type Workflow, type WorkflowResultType } from '@temporalio/workflow';
import type { WithWorkflowArgs } from '@temporalio/common';

/** Settings every workflow of a build obeys; forwarded whole, so a lost or reordered signal is harmless. */
export interface ControlSettings {
  /** No LLM activity starts while true; calls in flight finish. */
  paused: boolean;
  /** Ceiling on LLM activities in flight per stage (undefined = config.llm.concurrency). */
  concurrency?: number;
  /** Unpause requests so far: a review gate that began at a lower count is released. */
  unpauses?: number;
  /** A budget is set, so batches report their spend (without one they send nothing, sparing the build's history). */
  budgeted?: boolean;
  /**
   * Set by a stage for its batches only: the calls in flight one batch may hold, the stage's concurrency split
   * across the batches it runs, so that the stage as a whole keeps to `concurrency`.
   */
  batchShare?: number;
  /** Bumped on every change: a child ignores settings older than what it holds. */
  version: number;
}

/** What `ultralink set` may change at run time. */
export interface SetControlInput {
  concurrency?: number;
  budgetUsd?: number;
}

/** A stage's or batch's estimated spend so far, reported to the build by workflow id (cumulative, so replays are idempotent). */
export interface SpendReport {
  /** Workflow id of the reporter. */
  source: string;
  usd: number;
}

/** What the build's `progress` query returns about control. */
export interface BuildControlProgress {
  state: 'running' | 'paused' | 'budget_paused';
  paused: boolean;
  userPaused: boolean;
  budgetPaused: boolean;
  concurrency?: number;
  budgetUsd?: number;
  spentUsd: number;
}

/** User: stop starting LLM work. */
export const pauseSignal = defineSignal('pause');
/** User: resume LLM work (also clears a review gate; a budget pause needs a higher budget). */
export const unpauseSignal = defineSignal('unpause');
/** User: change concurrency or budget at run time. */
export const setControlSignal = defineSignal<[SetControlInput]>('setControl');
/** Parent to child: the full current settings. */
export const controlSignal = defineSignal<[ControlSettings]>('control');
/** Child to build: cumulative spend of one reporter. */
export const spendSignal = defineSignal<[SpendReport]>('spend');
/** The build's control state (stages expose theirs inside their own `progress` query). */
export const controlQuery = defineQuery<BuildControlProgress>('control');

/** A stage's explicit cap on its calls in flight: set live, else from config (`control.concurrency`), else none. */
export function stageCap(control: ControlSettings, config: { control: { concurrency?: number } }): number | undefined {
  const cap = control.concurrency ?? config.control.concurrency;
  return cap === undefined ? undefined : Math.max(1, cap);
}

/** Settings of a build that nobody has touched. */
export function initialControl(): ControlSettings {
  return { paused: false, version: 0 };
}

/** The newer of two settings (a child keeps what it holds when an older forward arrives late). */
export function newerControl(held: ControlSettings, incoming: ControlSettings): ControlSettings {
  return incoming.version > held.version ? incoming : held;
}

/**
 * What a resumed build takes over from its earlier runs: the spend they reported and the budget and concurrency
 * last set on them. Without it a resumed build would count its budget from zero and forget `ultralink set`.
 */
export interface CarriedControl {
  spentUsd: number;
  budgetUsd?: number;
  concurrency?: number;
}

/** A signal a closed run received, read back from its history. */
export interface ReceivedSignal {
  name: string;
  arg: unknown;
}

/** Ledger key of the spend carried from earlier runs (reporters are keyed by workflow id, which holds a `/`). */
const EARLIER_RUNS = 'earlier runs';

/** The build's control: user pause, budget pause and the spend ledger; the effective settings derive from them. */
export class BuildControl {
  userPaused = false;
  unpauses = 0;
  concurrency?: number;
  budgetUsd?: number;
  private readonly spend = new Map<string, number>();
  private version = 0;
  private lastForwarded?: ControlSettings;

  /** `budgetUsd` from config; `carried` from the build's earlier runs, whose set budget wins over config's. */
  constructor(budgetUsd?: number, carried?: CarriedControl) {
    this.budgetUsd = carried?.budgetUsd ?? budgetUsd;
    this.concurrency = carried?.concurrency;
    if (carried && carried.spentUsd > 0) this.spend.set(EARLIER_RUNS, carried.spentUsd);
  }

  /** Total estimated spend reported so far. */
  get spentUsd(): number {
    let total = 0;
    for (const usd of this.spend.values()) total += usd;
    return total;
  }

  /** True once the spend has reached the budget. */
  get budgetPaused(): boolean {
    return this.budgetUsd !== undefined && this.spentUsd >= this.budgetUsd;
  }

  /** Records a cumulative spend report (a lower figure from a replayed or older report never lowers it). */
  report(r: SpendReport): void {
    this.spend.set(r.source, Math.max(this.spend.get(r.source) ?? 0, r.usd));
  }

  /** Applies a `set`; a budget raise lifts a budget pause. */
  set(input: SetControlInput): void {
    if (input.concurrency !== undefined) this.concurrency = Math.max(1, Math.floor(input.concurrency));
    if (input.budgetUsd !== undefined) this.budgetUsd = input.budgetUsd;
  }

  /** The settings children must obey now; the version moves only when they change. */
  settings(): ControlSettings {
    const paused = this.userPaused || this.budgetPaused;
    const last = this.lastForwarded;
    const budgeted = this.budgetUsd !== undefined;
    if (last && last.paused === paused && last.concurrency === this.concurrency && last.unpauses === this.unpauses && last.budgeted === budgeted) return last;
    this.version += 1;
    this.lastForwarded = { paused, concurrency: this.concurrency, unpauses: this.unpauses, budgeted, version: this.version };
    return this.lastForwarded;
  }

  /** What the query shows. */
  progress(): BuildControlProgress {
    const budgetPaused = this.budgetPaused;
    const paused = this.userPaused || budgetPaused;
    return { state: budgetPaused ? 'budget_paused' : paused ? 'paused' : 'running', paused, userPaused: this.userPaused, budgetPaused, concurrency: this.concurrency, budgetUsd: this.budgetUsd, spentUsd: this.spentUsd };
  }
}

/**
 * The control state a closed run hands to the next one: its own carried state with the `setControl` and `spend`
 * signals it received replayed in order, as the run applied them (pause state is not carried: resuming is going on).
 */
export function carryOver(budgetUsd: number | undefined, carried: CarriedControl | undefined, signals: readonly ReceivedSignal[]): CarriedControl {
  const control = new BuildControl(budgetUsd, carried);
  for (const s of signals) {
    if (s.name === setControlSignal.name) control.set(s.arg as SetControlInput);
    else if (s.name === spendSignal.name) control.report(s.arg as SpendReport);
  }
  return { spentUsd: control.spentUsd, budgetUsd: control.budgetUsd, concurrency: control.concurrency };
}

/** AIMD tuning: additive step up per clean result, multiplicative factor down on rate limiting, a floor. */
export interface AimdOptions {
  minConcurrency: number;
  increase: number;
  decreaseFactor: number;
}

/**
 * Next concurrency after one LLM result: rate limited → multiply down (not below the floor), else add up
 * (not above the ceiling). Fed only by activity results, so the decision replays identically.
 */
export function aimdNext(current: number, rateLimited: number, ceiling: number, o: AimdOptions): number {
  const floor = Math.max(1, Math.min(o.minConcurrency, ceiling));
  const next = rateLimited > 0 ? current * o.decreaseFactor : current + o.increase;
  return Math.max(floor, Math.min(ceiling, next));
}

/** Whole slots a fractional AIMD concurrency allows. */
export function aimdSlots(concurrency: number): number {
  return Math.max(1, Math.floor(concurrency));
}

/**
 * Runs a child that obeys live control: started with the settings of the moment (in its input, by the caller),
 * then, once started, sent the current settings if they moved meanwhile, since a forward that raced the start may have missed it.
 */
export async function executeControlled<W extends Workflow>(fn: W, options: WithWorkflowArgs<W, Omit<ChildWorkflowOptions, 'typeInfo'> & { typeInfo?: never }>, current: () => ControlSettings): Promise<WorkflowResultType<W>> {
  const sent = current().version;
  const handle = await startChild(fn, options);
  const now = current();
  if (now.version !== sent) await handle.signal(controlSignal, now).catch(() => undefined);
  return (await handle.result()) as WorkflowResultType<W>;
}
