/**
 * Exact-quota fan-out shared by every LLM stage (dialogues, judging, translation).
 * Draw positions are consumed in seeded order, in batches run as child workflows under a sliding window.
 * A batch is admitted only while kept + in-flight positions < quota, so the kept items are always the
 * shortest prefix of the draw order holding `quota` keepers, whatever the completion order (deterministic).
 */
import { continueAsNew, startChild, workflowInfo, type ChildWorkflowHandle } from '@temporalio/workflow';
import type { Config } from '../config';
import { emptyStats, mergeFunnels, type Funnel } from '../core/stats';
import { stageWorkflowId } from '../names';
import { itemBatchWorkflow, type BatchResult, type ItemStage, type StageSource } from './item-batch';

export interface QuotaStageInput {
  buildId: string;
  lang: string;
  stage: ItemStage;
  config: Config;
  /** Items to keep; Infinity-like values are clamped to sourceCount. */
  quota: number;
  source: StageSource;
  /** Carried across continue-as-new. */
  state?: QuotaStageState;
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
}

export interface QuotaStageResult extends QuotaStageState {
  stage: ItemStage;
  quota: number;
  status: 'met' | 'exhausted';
}

/** Positions one batch child processes at most (bounds each child's history). */
const BATCH_SIZE = 50;

/** Runs a stage to its exact quota; returns the counts (the kept items are in storage, listed by batch). */
export async function quotaStageWorkflow(input: QuotaStageInput): Promise<QuotaStageResult> {
  const { buildId, lang, stage, config, source } = input;
  const quota = Math.min(input.quota, source.count);
  const state: QuotaStageState = input.state ?? { nextDraw: 0, kept: 0, dropped: 0, batches: 0, funnel: {}, calls: 0, promptTokens: 0, completionTokens: 0 };
  const maxBatches = Math.max(1, Math.ceil(config.llm.concurrency / 4));
  const inflight = new Map<string, { handle: ChildWorkflowHandle<typeof itemBatchWorkflow>; size: number }>();
  let inflightPositions = 0;

  for (;;) {
    while (inflight.size < maxBatches) {
      const size = Math.min(BATCH_SIZE, quota - state.kept - inflightPositions, source.count - state.nextDraw);
      if (size <= 0) break;
      const from = state.nextDraw;
      const id = stageWorkflowId(buildId, lang, stage, from);
      const handle = await startChild(itemBatchWorkflow, {
        workflowId: id,
        taskQueue: workflowInfo().taskQueue,
        args: [{ buildId, lang, stage, config, source, from, to: from + size }],
      });
      inflight.set(id, { handle, size });
      state.nextDraw += size;
      state.batches += 1;
      inflightPositions += size;
    }
    if (inflight.size === 0) break;
    const [id, result] = await Promise.race([...inflight].map(async ([id, c]) => [id, await c.handle.result()] as const));
    inflightPositions -= inflight.get(id)!.size;
    inflight.delete(id);
    absorb(state, result);
    // History stays bounded at any scale: hand the counts to a fresh run once nothing is in flight.
    if (workflowInfo().continueAsNewSuggested && inflight.size === 0) {
      await continueAsNew<typeof quotaStageWorkflow>({ ...input, state });
    }
  }
  return { ...state, stage, quota, status: state.kept >= quota ? 'met' : 'exhausted' };
}

function absorb(state: QuotaStageState, r: BatchResult): void {
  state.kept += r.kept;
  state.dropped += r.dropped;
  state.calls += r.calls;
  state.promptTokens += r.promptTokens;
  state.completionTokens += r.completionTokens;
  state.funnel = mergeFunnels(state.funnel, { [r.stage]: { ...emptyStats(), total: r.kept + r.dropped, kept: r.kept, dropped: r.dropped, byReason: r.byReason } });
}
