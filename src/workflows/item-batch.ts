/**
 * One batch of draw positions of an LLM stage: each item's LLM calls are separate activities (a crash
 * repeats at most the calls in flight), items run concurrently up to a bound, and the batch's kept items
 * are recorded in storage under the batch's first position, so assembly can list them in draw order.
 */
import type { Config } from '../config';
import { planNextTurn } from '../core/dialogue/plan';
import { permutation } from '../core/agnostic/sample';
import { llmActivities, workActivities } from './proxies';

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
}

/** The outcome of one item. */
interface ItemOutcome {
  sourceIndex: number;
  kept: boolean;
  reason?: string;
  endedEarly?: string;
  calls: number;
  promptTokens: number;
  completionTokens: number;
}

/** LLM outcome counts as activities return them. */
interface CallCounts {
  calls: number;
  promptTokens: number;
  completionTokens: number;
}

/** Items of one batch in flight at once. */
function itemConcurrency(config: Config): number {
  return Math.max(1, Math.min(16, config.llm.concurrency));
}

/** Processes draw positions [from, to) and records the kept items. */
export async function itemBatchWorkflow(input: BatchInput): Promise<BatchResult> {
  const { config, source, from, to } = input;
  const order = permutation(source.count, config.seed, 'draw', source.orderKey);
  const positions = Array.from({ length: to - from }, (_, k) => from + k);
  const outcomes = await mapConcurrent(positions, itemConcurrency(config), (p) => processItem(input, order(p)));
  await workActivities(config).recordBatch({
    buildId: input.buildId,
    lang: input.lang,
    stage: input.stage,
    from,
    keptSourceIndices: outcomes.filter((o) => o.kept).map((o) => o.sourceIndex),
  });
  return summarise(input.stage, from, outcomes);
}

function processItem(input: BatchInput, sourceIndex: number): Promise<ItemOutcome> {
  switch (input.stage) {
    case 'chat_specific':
      return runDialogue(input, sourceIndex);
    case 'judge':
      return runJudge(input, sourceIndex);
    default:
      return runTranslation(input, sourceIndex);
  }
}

/** Paper §2.1.2: initial question and answer, then in-depth or expansive follow-ups until the plan ends. */
async function runDialogue(input: BatchInput, segmentIndex: number): Promise<ItemOutcome> {
  const { buildId, lang, config, source } = input;
  const llm = llmActivities(config);
  const base = { buildId, lang, segmentsKey: source.manifestKey, segmentIndex };
  const out: ItemOutcome = { sourceIndex: segmentIndex, kept: false, calls: 0, promptTokens: 0, completionTokens: 0 };
  const kinds: Array<'initial' | 'in_depth' | 'expansive'> = [];
  for (let turn = 0; ; turn++) {
    const kind = turn === 0 ? 'initial' : planNextTurn({ seed: config.seed, segmentId: `${lang}:${segmentIndex}`, completedTurns: turn, options: config.dialogue });
    if (kind === 'end') break;
    const question = await llm.askQuestion({ ...base, turn, kind });
    add(out, question);
    if (question.ok) {
      const answer = await llm.giveAnswer({ ...base, turn, kind });
      add(out, answer);
      if (answer.ok) {
        kinds.push(kind);
        continue;
      }
      if (turn === 0) return { ...out, reason: answer.reason };
      out.endedEarly = answer.reason;
      break;
    }
    if (turn === 0) return { ...out, reason: question.reason };
    out.endedEarly = question.reason;
    break;
  }
  await workActivities(config).saveDialogue({ ...base, kinds });
  return { ...out, kept: true };
}

/** Paper §2.2.1: the multi-criteria judge; an unparsable verdict is asked once more, then dropped as unjudged. */
async function runJudge(input: BatchInput, sourceIndex: number): Promise<ItemOutcome> {
  const { buildId, lang, config, source } = input;
  const llm = llmActivities(config);
  const out: ItemOutcome = { sourceIndex, kept: false, calls: 0, promptTokens: 0, completionTokens: 0 };
  for (let attempt = 0; attempt <= config.agnostic.judgeRetries; attempt++) {
    const verdict = await llm.judgeConversation({ buildId, lang, sourceKey: source.manifestKey, sourceIndex, attempt });
    add(out, verdict);
    if (verdict.outcome === 'unparsable') continue;
    return verdict.outcome === 'keep' ? { ...out, kept: true } : { ...out, reason: verdict.reason };
  }
  return { ...out, reason: 'agnostic_unjudged' };
}

/** Paper §2.2.2: translate every text of the item (turn by turn); a failed check is retried once, then dropped. */
async function runTranslation(input: BatchInput, sourceIndex: number): Promise<ItemOutcome> {
  const { buildId, lang, stage, config, source } = input;
  const llm = llmActivities(config);
  const work = workActivities(config);
  const out: ItemOutcome = { sourceIndex, kept: false, calls: 0, promptTokens: 0, completionTokens: 0 };
  const { fields } = await work.describeItem({ sourceKey: source.manifestKey, sourceIndex });
  for (let field = 0; field < fields; field++) {
    let reason: string | undefined;
    for (let attempt = 0; attempt <= config.agnostic.translateRetries; attempt++) {
      const r = await llm.translateField({ buildId, lang, stage, sourceKey: source.manifestKey, sourceIndex, field, attempt });
      add(out, r);
      reason = r.ok ? undefined : r.reason;
      if (r.ok) break;
    }
    if (reason) return { ...out, reason };
  }
  await work.saveTranslation({ buildId, lang, stage, sourceKey: source.manifestKey, sourceIndex, fields });
  return { ...out, kept: true };
}

function add(out: ItemOutcome, c: CallCounts): void {
  out.calls += c.calls;
  out.promptTokens += c.promptTokens;
  out.completionTokens += c.completionTokens;
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
    r.calls += o.calls;
    r.promptTokens += o.promptTokens;
    r.completionTokens += o.completionTokens;
  }
  return r;
}

/** Runs `fn` over items with at most `limit` in flight, keeping results in input order. */
async function mapConcurrent<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(lanes);
  return results;
}
