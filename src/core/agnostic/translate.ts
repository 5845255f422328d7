/**
 * The translator (paper §2.2.2, Figure 10): prompt rendering from per-language packs, restoring the
 * masked spans, and the checks that turn a bad translation into a counted drop.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { ChatMessage, FinishReason } from '../../llm/types';
import { drop, KEEP, type Verdict } from '../stats';
import { containment, isPromptEcho } from '../text/echo';
import type { LangId } from '../text/lang-id';
import { convertScript, type ScriptConversion } from '../text/script';
import { proseShare, unmask, withoutPlaceholders, type Unmasked } from './mask';
import type { AgnosticSubset } from './readers';

/** Schema of a translation prompt pack (src/prompts/<lang>.translate.yaml). */
export const translatePackSchema = z.object({
  version: z.string().min(1),
  lang: z.string().min(2),
  kind: z.literal('translate'),
  target_language: z.string().min(1),
  system: z.string().min(1),
  principles: z.array(z.string().min(1)).min(1),
  subsets: z.object({ chat: z.string().min(1), math: z.string().min(1), code: z.string().min(1) }),
  user_template: z.string().includes('{text}'),
});

/** A validated translation prompt pack. */
export type TranslatePack = z.infer<typeof translatePackSchema>;

/** Parses and validates a translation pack's YAML text; throws on a bad pack (a configuration fault). */
export function parseTranslatePack(yamlText: string): TranslatePack {
  return translatePackSchema.parse(parseYaml(yamlText));
}

/** The translation prompt for one masked text (a chat turn, a math query or response, a code instruction or response). */
export function renderTranslateMessages(pack: TranslatePack, text: string, options: { subset: AgnosticSubset }): ChatMessage[] {
  return [
    { role: 'system', content: systemContent(pack, options.subset) },
    { role: 'user', content: pack.user_template.split('{text}').join(text).trimEnd() },
  ];
}

/** The instructions of a translation prompt (system prompt, principles, subset note, user template without the text), for the echo check. */
export function translateInstructions(pack: TranslatePack, subset: AgnosticSubset): string {
  return `${systemContent(pack, subset)}\n\n${pack.user_template.split('{text}').join('\n').trim()}`;
}

function systemContent(pack: TranslatePack, subset: AgnosticSubset): string {
  const principles = pack.principles.map((p, i) => `${i + 1}. ${p.trim()}`).join('\n');
  return `${pack.system.trim()}\n\n${principles}\n\n${pack.subsets[subset].trim()}`;
}

/** The model's reply without the <text> wrapper the prompt used, if it echoed it. */
export function extractTranslation(content: string): string {
  const m = /^\s*<text>\s*\n?([\s\S]*?)\n?\s*<\/text>\s*$/.exec(content);
  return (m ? m[1] : content).trim();
}

/** Restores a masked translation: unwraps it, applies the language's script conversion (config `scriptConversion`; zh: t2s) to the prose only, then puts the protected spans back. */
export function restoreTranslation(content: string, slots: string[], options: { scriptConversion?: ScriptConversion } = {}): Unmasked {
  // Converting before unmasking keeps code, LaTeX and URLs byte for byte.
  return unmask(convertScript(extractTranslation(content), options.scriptConversion), slots);
}

/** Thresholds of the translation checks. */
export const translationCheckOptionsSchema = z.object({
  /** Below this many letters of prose outside placeholders the language check is skipped (code-only turns). */
  minProseLetters: z.number().int().nonnegative().default(20),
  /** Below this share of prose letters among all restored non-space characters the language check is skipped. */
  minProseShare: z.number().min(0).max(1).default(0.25),
  /** A different top label drops the text only when fastText is at least this sure of it. */
  wrongLanguageMinProb: z.number().min(0).max(1).default(0.5),
  /** Share of the source's word 4-grams found verbatim in the translation at which it counts as copied, not translated. */
  maxCopiedShare: z.number().min(0).max(1).default(0.25),
  /** Below this many word 4-grams in the source the copy check is skipped (a short text may rightly keep a name or title). */
  minCopyShingles: z.number().int().positive().default(8),
});

/** Thresholds of the translation checks. */
export type TranslationCheckOptions = z.infer<typeof translationCheckOptionsSchema>;

/** One translation as returned: the model's masked reply, its finish reason, and the slots of the source. */
export interface TranslationOutput {
  text: string;
  finishReason: FinishReason;
  slots: string[];
}

/** Drop reasons of the translation step: the activity's prompt-size check, then `checkTranslation`'s in check order. */
export const TRANSLATE_DROP_REASONS = [
  'translate_too_long',
  'translate_truncated',
  'translate_empty',
  'translate_prompt_echo',
  'translate_placeholder_altered',
  'translate_placeholder_duplicated',
  'translate_placeholder_lost',
  'translate_wrong_language',
  'translate_copied_source',
] as const;

/**
 * Drop reasons in check order: translate_truncated, translate_empty, translate_prompt_echo (when `instructions` are
 * given), translate_placeholder_*, translate_wrong_language. The echo check comes before the placeholder check: an
 * echo of the principles carries their sample markers ⟦P0⟧, ⟦P1⟧, so it may pass the placeholder check or fail it
 * under the wrong name.
 * The language check runs on the prose with placeholders removed and is skipped when that prose is short or a small
 * share of the text (mostly code/formulas), where fastText is unreliable.
 * translate_copied_source (when the masked `source` is given) catches a reply that left much of the source as it was,
 * e.g. its first paragraph translated and the rest copied: fastText may still see the target language in it.
 */
export function checkTranslation(
  output: TranslationOutput,
  options: { langId: LangId; expectedLabel: string; instructions?: string; source?: string } & Partial<TranslationCheckOptions>,
): Verdict {
  const opts = translationCheckOptionsSchema.parse({
    minProseLetters: options.minProseLetters,
    minProseShare: options.minProseShare,
    wrongLanguageMinProb: options.wrongLanguageMinProb,
    maxCopiedShare: options.maxCopiedShare,
    minCopyShingles: options.minCopyShingles,
  });
  if (output.finishReason === 'length') return drop('translate_truncated');
  const masked = extractTranslation(output.text);
  if (masked.length === 0) return drop('translate_empty');
  if (options.instructions !== undefined && isPromptEcho(masked, options.instructions)) return drop('translate_prompt_echo');
  const restored = unmask(masked, output.slots);
  if (!restored.ok) return drop(restored.reason);
  const { letters, share } = proseShare(masked, output.slots);
  if (letters < opts.minProseLetters || share < opts.minProseShare) return KEEP;
  // Placeholders are removed so protected code does not sway fastText.
  const prose = withoutPlaceholders(masked).replace(/\s+/g, ' ').trim();
  const { lang, score } = options.langId.detect(prose);
  if (lang !== options.expectedLabel && score >= opts.wrongLanguageMinProb) return drop('translate_wrong_language');
  if (options.source !== undefined) {
    // Numbers, placeholders and one-letter symbols (x, f) rightly stay as they are in a translation: not words here.
    const words = (prose: string) => prose.replace(/\p{N}+/gu, ' ');
    const { shared, total } = containment(words(withoutPlaceholders(options.source)), words(prose), COPY_SHINGLES);
    if (total >= opts.minCopyShingles && shared / total >= opts.maxCopiedShare) return drop('translate_copied_source');
  }
  return KEEP;
}

/** Shingles of the copy check: four words in a row, short enough to catch a copied sentence, long enough to spare a copied name. */
const COPY_SHINGLES = { words: 4, minWordLength: 2 };
