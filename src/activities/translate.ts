/**
 * The translator's activities (paper §2.2.2, Figure 10): each text of an item in its own calls, piece by piece with
 * protected spans, every attempt stored as it finishes, and the item saved once all its texts passed.
 */
import { splitForTranslation } from '../core/agnostic/mask';
import type { AgnosticItem } from '../core/agnostic/readers';
import { acceptTranslation, parseTranslatePack, renderTranslateMessages, translateInstructions, translationAttempt, type TranslatePack } from '../core/agnostic/translate';
import type { JudgeVerdict } from '../core/agnostic/judge';
import { addCallCost, type CallOutcome } from '../core/cost';
import { MissingInputError } from '../core/errors';
import { retrySeed } from '../core/random';
import { countTokens } from '../core/text/tokens';
import { countPromptTokens } from '../llm/prompt-tokens';
import type { ChatRequest } from '../llm/types';
import { translationFieldKey, translationKey } from '../names';
import { loadPack } from '../prompts/load';
import { getJson, stored } from '../storage/json';
import type { BuildContext } from './build-context';
import { filterPackOf } from './judge';
import { callGateway } from './llm';
import type { FilteredItem } from './sources';

/** What the workflow learns of one translated item: kept, or the reason of the field that failed every attempt. */
export interface ItemTranslationOutcome extends CallOutcome {
  kept: boolean;
  reason?: string;
}

/** One item to translate (its texts are read from the source shard). */
export interface TranslateItemInput {
  buildId: string;
  lang: string;
  stage: string;
  sourceKey: string;
  sourceIndex: number;
}

/** What the workflow learns of one translated text. */
export interface FieldOutcome extends CallOutcome {
  ok: boolean;
  reason?: string;
}

/** One text's translation attempt as stored. */
interface StoredField {
  ok: boolean;
  reason?: string;
  text?: string;
  /** The raw reply a check dropped (first REJECTED_CHARS characters), so a drop can be read, not only counted. */
  rejected?: string;
  /** The piece (of splitForTranslation) that failed. */
  piece?: number;
  /** Per piece: its translation, or null when copied, not reached or failed; the next attempt reuses the strings. */
  pieces?: Array<string | null>;
  /** LLM calls this attempt needed (one per piece it asked for, also when a rerun found it in the response cache). */
  calls: number;
  promptTokens: number;
  completionTokens: number;
}

/** The stored translated item, read by assembly. */
export interface StoredTranslation {
  sourceId: string;
  turns: string[];
  /** Judge verdict that let the conversation in (chat only). */
  verdict?: JudgeVerdict;
  model: string;
  packVersion: string;
  promptTokens: number;
  completionTokens: number;
  calls: number;
}

/** Translations grow: cl100k spends up to ~3 tokens on Cyrillic or CJK text per English token. */
const TRANSLATION_GROWTH = 3;
/** Characters of a dropped reply kept in its field file. */
const REJECTED_CHARS = 2_000;
const MIN_TRANSLATION_TOKENS = 256;

/** Translation activities over the shared build context. */
export function createTranslateActivities(ctx: BuildContext) {
  const translatePacks = new Map<string, TranslatePack>();
  const translatePackOf = (lang: string) => translatePacks.get(lang) ?? translatePacks.set(lang, loadPack(lang, 'translate', parseTranslatePack)).get(lang)!;

  /**
   * Figure 10 translation of one text, piece by piece (splitForTranslation: blocks of code or display maths are
   * copied, each prose run between them goes in a call of its own), with code, LaTeX, URLs and citations masked;
   * each piece checked before it is kept. A retry asks again only for the pieces the attempt before it did not get
   * (their translations are stored with it), showing the protected spans as they are (translationAttempt). A piece
   * with no prose is copied without a call; one whose prompt and expected translation cannot fit the context window
   * is a counted drop (`translate_too_long`), not a failed build.
   */
  async function translateField(input: TranslateItemInput & { field: number; attempt: number }): Promise<FieldOutcome> {
    let paid = 0;
    let rateLimited = 0;
    const field = await stored(ctx.storage, translationFieldKey(input, input.field, input.attempt), async (): Promise<StoredField> => {
      const config = await ctx.configOf(input.buildId);
      const entry = config.languages[input.lang]!;
      const item = await ctx.item<AgnosticItem>(input.sourceKey, input.sourceIndex);
      const pack = translatePackOf(input.lang);
      const pieces = splitForTranslation(item.turns[input.field]!);
      const earlier = input.attempt > 0 ? (await getJson<StoredField>(ctx.storage, translationFieldKey(input, input.field, input.attempt - 1)))?.pieces : undefined;
      const translated: Array<string | null> = [];
      const spent = { calls: 0, promptTokens: 0, completionTokens: 0 };
      let failure: Pick<StoredField, 'reason' | 'piece' | 'rejected'> | undefined;
      for (const [i, piece] of pieces.entries()) {
        const reused = earlier?.[i];
        if (!piece.translate || typeof reused === 'string') {
          translated.push(piece.translate ? reused! : null);
          continue;
        }
        const attempt = translationAttempt(piece.text, input.attempt);
        const messages = renderTranslateMessages(pack, attempt.prompt, { subset: item.subset });
        const sourceTokens = countTokens(attempt.masked);
        const room = config.llm.contextWindow - countPromptTokens({ messages } as ChatRequest);
        if (room < sourceTokens) {
          failure = { reason: 'translate_too_long', piece: i };
          break;
        }
        const result = await callGateway(ctx.gateway, {
          messages,
          // Sized by the text, not by config.llm.maxTokens (a dialogue answer's cap), and never past the window.
          maxTokens: Math.min(room, Math.max(MIN_TRANSLATION_TOKENS, sourceTokens * TRANSLATION_GROWTH)),
          temperature: input.attempt === 0 ? 0 : config.llm.temperature,
          topP: config.llm.topP,
          seed: retrySeed(config.seed, 'translate', input.attempt),
        });
        addCallCost(spent, { calls: 1, promptTokens: result.promptTokens, completionTokens: result.completionTokens });
        if (!result.cached) paid += 1;
        rateLimited = Math.max(rateLimited, result.rateLimited);
        const accepted = acceptTranslation(
          { text: attempt.asMasked(result.content), finishReason: result.finishReason, slots: attempt.slots },
          { langId: await ctx.langId(), expectedLabel: entry.fasttextLabel, instructions: translateInstructions(pack, item.subset), source: attempt.masked, scriptConversion: entry.scriptConversion },
        );
        if (!accepted.ok) {
          failure = { reason: accepted.reason, piece: i, rejected: result.content.slice(0, REJECTED_CHARS) };
          break;
        }
        translated.push(accepted.text);
      }
      return failure
        ? { ok: false, ...failure, pieces: translated, ...spent }
        : { ok: true, text: pieces.map((p, i) => (p.translate ? translated[i]! : p.text)).join(''), pieces: translated, ...spent };
    });
    // A stored field reports its tokens but no calls (paid stays 0): they were counted by the attempt that sent them.
    const out: FieldOutcome = { ok: field.ok, reason: field.reason, calls: paid, promptTokens: field.promptTokens, completionTokens: field.completionTokens };
    return rateLimited > 0 ? { ...out, rateLimited } : out;
  }

  /** Joins the translated texts of an item into one record (the first passing attempt of each field, the cost of all attempts). */
  async function saveTranslation(input: TranslateItemInput & { fields: number }): Promise<void> {
    const key = translationKey(input.buildId, input.lang, input.stage, input.sourceIndex);
    if (await ctx.storage.exists(key)) return;
    const config = await ctx.configOf(input.buildId);
    const item = await ctx.item<FilteredItem>(input.sourceKey, input.sourceIndex);
    const translatePack = translatePackOf(input.lang).version;
    const record: StoredTranslation = {
      sourceId: item.sourceId,
      turns: [],
      ...(item.verdict ? { verdict: item.verdict } : {}),
      model: ctx.gateway.model,
      packVersion: item.subset === 'chat' ? `${filterPackOf().version}+${translatePack}` : translatePack,
      promptTokens: 0,
      completionTokens: 0,
      calls: 0,
    };
    for (let f = 0; f < input.fields; f++) {
      for (let attempt = 0; attempt <= config.agnostic.translateRetries; attempt++) {
        const s = await getJson<StoredField>(ctx.storage, translationFieldKey(input, f, attempt));
        if (!s) break;
        record.promptTokens += s.promptTokens;
        record.completionTokens += s.completionTokens;
        record.calls += s.calls;
        if (s.ok) {
          record.turns.push(s.text!);
          break;
        }
      }
    }
    if (record.turns.length !== input.fields) throw new MissingInputError(`item ${input.sourceIndex} has ${record.turns.length} of ${input.fields} translated texts in storage`);
    await ctx.storage.putIfAbsent(key, JSON.stringify(record));
  }
  return {
    /**
     * Paper §2.2.2: translates every text of one item in turn, each failed check retried up to
     * agnostic.translateRetries times, and saves the item. Each attempt is stored as it finishes, so a retried
     * activity, a rerun or a resumed build pays only for the call that was in flight. A cancellation stops it
     * between calls (callGateway).
     */
    async translateItem(input: TranslateItemInput): Promise<ItemTranslationOutcome> {
      const config = await ctx.configOf(input.buildId);
      const fields = (await ctx.item<AgnosticItem>(input.sourceKey, input.sourceIndex)).turns.length;
      const out: ItemTranslationOutcome = { kept: false, calls: 0, promptTokens: 0, completionTokens: 0 };
      for (let field = 0; field < fields; field++) {
        let reason: string | undefined;
        for (let attempt = 0; attempt <= config.agnostic.translateRetries; attempt++) {
          const r = await translateField({ ...input, field, attempt });
          addCallCost(out, r);
          reason = r.ok ? undefined : r.reason;
          if (r.ok) break;
        }
        if (reason) return { ...out, reason };
      }
      await saveTranslation({ ...input, fields });
      return { ...out, kept: true };
    },
  };
}
