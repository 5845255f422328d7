/**
 * Language-specific dialogue activities (paper §2.1.2). A whole dialogue is one activity (`writeDialogue`): its
 * questions and answers are LLM calls made in turn, and each outcome is stored under a deterministic key before
 * the next call, so a retried attempt, a rerun or a resumed build finds the finished turns and pays only for the
 * call that was in flight. One activity per call cost the server and the worker about four times the
 * orchestration per dialogue (bench/multi-worker.ts, docs/capacity.md).
 */
import { checkPromptFits, reviewReply } from '../core/dialogue/gates';
import type { QuestionKind } from '../core/dialogue/plan';
import { renderAnswerMessages, renderQuestionMessages } from '../core/dialogue/render';
import type { DialoguePack } from '../core/dialogue/prompt-pack';
import { countTokens } from '../core/text/tokens';
import type { ChatMessage } from '../core/messages';
import { countPromptTokens } from '../llm/prompt-tokens';
import { dialogueKey, turnKey } from '../names';
import { loadDialoguePack } from '../prompts/load';
import { getJson, stored } from '../storage/json';
import type { BuildContext } from './build-context';
import { addCallCost, type CallOutcome } from '../core/cost';
import { callGateway } from './llm';
import { MissingInputError } from '../core/errors';

interface TurnInput {
  buildId: string;
  lang: string;
  segmentsKey: string;
  segmentIndex: number;
  /** 0-based turn (question + answer pair). */
  turn: number;
  kind: QuestionKind;
}

/** What a dialogue record needs: its segment and the kinds of its completed turns. */
interface SaveDialogueInput {
  buildId: string;
  lang: string;
  segmentsKey: string;
  segmentIndex: number;
  kinds: QuestionKind[];
}

/** One dialogue: its segment and its seeded plan (the kinds of turns 1..n if every turn passes its gates). */
export interface DialogueInput {
  buildId: string;
  lang: string;
  segmentsKey: string;
  segmentIndex: number;
  plan: QuestionKind[];
}

/** A dialogue's outcome: kept, or the reason its first turn failed; a later failure ends it early but keeps it. */
export interface DialogueOutcome extends CallOutcome {
  kept: boolean;
  reason?: string;
  /** Why a kept dialogue stopped before its planned end. */
  endedEarly?: string;
}

/** What the workflow needs: pass or fail, and what it cost. */
export interface TurnOutcome extends CallOutcome {
  ok: boolean;
  reason?: string;
}

/** A generated turn half as the worker sees it: the outcome and, when kept, the text. */
interface GeneratedTurn extends TurnOutcome {
  text?: string;
}

/** Characters of a dropped output kept in its turn file, so a drop can be inspected, not just counted. */
const REJECTED_CHARS = 2_000;

/**
 * A stored turn half. `calls` is what the turn needed (1 per LLM call, as a translation field counts it), so a
 * record's cost is the same whether its answer was sent or came from the cache, crash or no crash; `cached` says
 * nothing was sent, which the stage's count of sent calls reads.
 */
interface StoredTurn extends TurnOutcome {
  cached?: true;
  text?: string;
  /** The raw output a gate dropped (first REJECTED_CHARS characters). */
  rejected?: string;
  kind: QuestionKind;
  finishReason?: string;
}

/** The stored dialogue record, read by assembly. */
export interface StoredDialogue {
  segmentIndex: number;
  segmentId: string;
  pageId: number;
  title: string;
  document: string;
  turns: string[];
  kinds: QuestionKind[];
  packVersion: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  calls: number;
}

/** What a stored turn reports to the stage: the calls it sent (none when its answer came from the cache). */
function storedOutcome(turn: StoredTurn): TurnOutcome {
  return { ok: turn.ok, reason: turn.reason, calls: turn.cached ? 0 : turn.calls, promptTokens: turn.promptTokens, completionTokens: turn.completionTokens };
}

/** Dialogue activities over the shared build context. */
export function createDialogueActivities(ctx: BuildContext) {
  const packs = new Map<string, DialoguePack>();
  const packOf = (lang: string) => packs.get(lang) ?? packs.set(lang, loadDialoguePack(lang)).get(lang)!;

  /**
   * Runs one generation: prompt fit gate, cached LLM call, normalisation, output gates; stores the outcome and
   * returns it with the kept text. `past` is the dialogue so far (its kept texts, in turn order).
   */
  async function generate(
    input: TurnInput,
    role: 'q' | 'a',
    render: (background: string, past: string[]) => Promise<ChatMessage[]>,
    past: string[],
    questionText?: string,
  ): Promise<GeneratedTurn> {
    let rateLimited = 0;
    // A stored outcome is returned as is (its original cost too, so stage totals do not depend on crashes).
    const turn = await stored(ctx.storage, turnKey(input, input.turn, role), async (): Promise<StoredTurn> => {
      const config = await ctx.configOf(input.buildId);
      const lang = config.languages[input.lang]!;
      const opts = config.dialogue;
      const segment = await ctx.segment(input.segmentsKey, input.segmentIndex);
      const messages = await render(segment.text, past);
      const maxTokens = role === 'q' ? opts.maxQuestionTokens : opts.maxAnswerTokens;
      const request = { messages, maxTokens, temperature: config.llm.temperature, topP: config.llm.topP, seed: config.seed };
      const fits = checkPromptFits({ promptTokens: countPromptTokens(request), maxCompletionTokens: maxTokens, contextWindow: config.llm.contextWindow });
      if (!fits.keep) return { ok: false, reason: fits.reason, kind: input.kind, calls: 0, promptTokens: 0, completionTokens: 0 };
      const result = await callGateway(ctx.gateway, request);
      const { text, verdict } = reviewReply(
        result,
        { role: role === 'q' ? 'question' : 'answer', lang: input.lang, messages, document: segment.text, past, question: questionText },
        { scriptConversion: lang.scriptConversion, labels: packOf(input.lang).labels, countTokens, langId: await ctx.langId(), minAnswerTokens: opts.minAnswerTokens, minQuestionChars: opts.minQuestionChars, expectedLabel: lang.fasttextLabel },
      );
      rateLimited = result.rateLimited;
      const spent = { calls: 1, ...(result.cached ? { cached: true as const } : {}), promptTokens: result.promptTokens, completionTokens: result.completionTokens };
      return verdict.keep
        ? { ok: true, text, kind: input.kind, finishReason: result.finishReason, ...spent }
        : { ok: false, reason: verdict.reason, kind: input.kind, finishReason: result.finishReason, rejected: result.content.slice(0, REJECTED_CHARS), ...spent };
    });
    return { ...storedOutcome(turn), text: turn.ok ? turn.text : undefined, ...(rateLimited > 0 ? { rateLimited } : {}) };
  }

  /** Writes the finished dialogue (the completed turns) as one record; idempotent. */
  async function saveDialogue(input: SaveDialogueInput): Promise<void> {
    const key = dialogueKey(input.buildId, input.lang, input.segmentIndex);
    if (await ctx.storage.exists(key)) return;
    const segment = await ctx.segment(input.segmentsKey, input.segmentIndex);
    const turns: string[] = [];
    let promptTokens = 0, completionTokens = 0, calls = 0;
    for (let t = 0; t < input.kinds.length; t++) {
      for (const role of ['q', 'a'] as const) {
        const key = turnKey(input, t, role);
        const s = await getJson<StoredTurn>(ctx.storage, key);
        if (!s?.ok || s.text === undefined) throw new MissingInputError(`dialogue ${input.segmentIndex} has no kept ${role === 'q' ? 'question' : 'answer'} of turn ${t} at ${key}`);
        turns.push(s.text);
        promptTokens += s.promptTokens;
        completionTokens += s.completionTokens;
        calls += s.calls;
      }
    }
    const record: StoredDialogue = {
      segmentIndex: input.segmentIndex,
      segmentId: segment.id,
      pageId: segment.pageId,
      title: segment.title,
      document: segment.text,
      turns,
      kinds: input.kinds,
      packVersion: packOf(input.lang).version,
      model: ctx.gateway.model,
      promptTokens,
      completionTokens,
      calls,
    };
    await ctx.storage.putIfAbsent(key, JSON.stringify(record));
  }

  /** The question of `turn` (Figure 5 initial, Figure 7 in-depth, Figure 8 expansive). */
  function question(input: TurnInput, past: string[]): Promise<GeneratedTurn> {
    return generate(input, 'q', async (background, history) => renderQuestionMessages(packOf(input.lang), { background, history, kind: input.kind }), past);
  }

  /** The answer to `questionText` (Figure 6 initial, follow-up otherwise). */
  function answer(input: TurnInput, questionText: string, past: string[]): Promise<GeneratedTurn> {
    const kind = input.turn === 0 ? 'initial' : 'followup';
    return generate(input, 'a', async (background, history) => renderAnswerMessages(packOf(input.lang), { background, history, question: questionText, kind }), past, questionText);
  }

  return {
    /**
     * Paper §2.1.2: the initial question and answer, then the planned follow-ups, until the plan ends or a gate
     * drops an output. A failed first turn drops the dialogue; a later one ends it at the last good turn.
     */
    async writeDialogue(input: DialogueInput): Promise<DialogueOutcome> {
      // A cancellation stops the dialogue between calls (callGateway); the next attempt starts after the stored ones.
      const out: DialogueOutcome = { kept: false, calls: 0, promptTokens: 0, completionTokens: 0 };
      const kinds: QuestionKind[] = [];
      const past: string[] = []; // the kept texts so far, so no call rereads them from storage
      for (const [turn, kind] of input.plan.entries()) {
        const base: TurnInput = { ...input, turn, kind };
        const q = await question(base, past);
        const a = q.text === undefined ? undefined : await answer(base, q.text, past);
        for (const r of [q, a]) if (r) addCallCost(out, r);
        if (a?.text === undefined) {
          const reason = (a ?? q).reason;
          if (turn === 0) return { ...out, reason };
          out.endedEarly = reason;
          break;
        }
        past.push(q.text!, a.text);
        kinds.push(kind);
      }
      await saveDialogue({ ...input, kinds });
      return { ...out, kept: true };
    },
  };
}

