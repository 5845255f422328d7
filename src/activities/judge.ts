/**
 * The culture filter's judge (paper §2.2.1, Figure 9): one English conversation per call, its verdict stored per
 * attempt for audit, so a rerun calls no LLM.
 */
import { judgeDecision, judgeJsonSchema, parseFilterPack, parseVerdict, renderJudgeMessages, type FilterPack, type JudgeVerdict } from '../core/agnostic/judge';
import type { AgnosticItem } from '../core/agnostic/readers';
import type { CallOutcome } from '../core/cost';
import { retrySeed } from '../core/random';
import { verdictKey } from '../names';
import { loadPack } from '../prompts/load';
import { stored } from '../storage/json';
import type { BuildContext } from './build-context';
import { callGateway } from './llm';

/** What the workflow learns of one judge attempt: counts and the decision, never the text. */
export interface JudgeOutcome extends CallOutcome {
  outcome: 'keep' | 'drop' | 'unparsable';
  reason?: string;
}

/** One judge attempt as stored for audit (`<sourceLang>/judge/items/<i>/verdict-<attempt>.json`). */
export interface StoredVerdict {
  attempt: number;
  outcome: JudgeOutcome['outcome'];
  reason?: string;
  verdict?: JudgeVerdict;
  /** The unparsable reply (first 2,000 characters). */
  raw?: string;
  model: string;
  packVersion: string;
  /** LLM calls this attempt needed (1 even when a rerun found it in the response cache). */
  calls: number;
  promptTokens: number;
  completionTokens: number;
}

let filterPack: FilterPack | undefined;
/** The Figure 9 pack, read once per worker. */
export const filterPackOf = (): FilterPack => (filterPack ??= loadPack('en', 'filter', parseFilterPack));

/** Judge activities over the shared build context. */
export function createJudgeActivities(ctx: BuildContext) {
  return {
    /** Figure 9 judge of one English conversation; every attempt's verdict (or unparsable reply) is stored for audit. */
    async judgeConversation(input: { buildId: string; lang: string; sourceKey: string; sourceIndex: number; attempt: number }): Promise<JudgeOutcome> {
      let paid = 0;
      let rateLimited = 0;
      const verdict = await stored(ctx.storage, verdictKey(input.buildId, input.lang, input.sourceIndex, input.attempt), async (): Promise<StoredVerdict> => {
        const config = await ctx.configOf(input.buildId);
        const pack = filterPackOf();
        const item = await ctx.item<AgnosticItem>(input.sourceKey, input.sourceIndex);
        const result = await callGateway(ctx.gateway, {
          messages: renderJudgeMessages(pack, item.turns),
          maxTokens: 256,
          temperature: input.attempt === 0 ? 0 : config.llm.temperature,
          topP: config.llm.topP,
          seed: retrySeed(config.seed, 'judge', input.attempt),
          jsonSchema: judgeJsonSchema,
        });
        const parsed = parseVerdict(result.content);
        paid = result.cached ? 0 : 1;
        rateLimited = result.rateLimited;
        const base = { attempt: input.attempt, model: ctx.gateway.model, packVersion: pack.version, calls: 1, promptTokens: result.promptTokens, completionTokens: result.completionTokens };
        if (!parsed.ok) return { ...base, outcome: 'unparsable', reason: parsed.reason, raw: result.content.slice(0, 2_000) };
        const decision = judgeDecision(parsed.verdict);
        return decision.keep ? { ...base, outcome: 'keep', verdict: parsed.verdict } : { ...base, outcome: 'drop', reason: decision.reason, verdict: parsed.verdict };
      });
      // A stored verdict reports its tokens but no call (paid stays 0): the attempt that judged counted it.
      return { outcome: verdict.outcome, reason: verdict.reason, calls: paid, promptTokens: verdict.promptTokens, completionTokens: verdict.completionTokens, ...(rateLimited > 0 ? { rateLimited } : {}) };
    },
  };
}
