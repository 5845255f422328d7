/**
 * The translator (paper §2.2.2, Figure 10): prompt rendering from per-language packs, restoring the
 * masked spans, and the checks that turn a bad translation into a counted drop.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { ChatMessage, FinishReason } from '../messages';
import { drop, KEEP, type Verdict } from '../stats';
import { containment, isPromptEcho } from '../text/echo';
import type { LangId } from '../text/lang-id';
import { convertScript, hasNewMixedScriptWord, type ScriptConversion } from '../text/script';
import { mask, maskBySlots, proseShare, unmask, withoutPlaceholders, type Unmasked } from './mask';
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

// Lead-ins a small model writes before its translation ("Voici la traduction en français :"), per language. Phrases
// name the translation and may run on to a colon 60 characters later; they are also looked for inside a reply.
const PREAMBLE_PHRASES = [
  // en
  String.raw`here(?: is|'s|’s| are)(?: the| your| my| a)?(?: \p{L}+){0,3}? translat\p{L}*`, String.raw`(?:below|following) is (?:the|my|your) (?:\p{L}+ )?translat\p{L}*`,
  // zh
  String.raw`(?:以下|下面|这)(?:就是|是)\p{Script=Han}{0,8}?(?:翻译|译文)`, '(?:翻译|译文)(?:结果)?如下',
  // ru
  String.raw`вот (?:\p{L}+ ){0,2}?перев[оеё]д\p{L}*`, String.raw`ниже (?:приведён|приведен|представлен) перевод`,
  // fr
  String.raw`voici (?:la|ma|une|votre|le) (?:\p{L}+ ){0,2}?tradu\p{L}*`,
  // es
  String.raw`aquí (?:está|tienes|va|te dejo) (?:la|mi|una|tu|el) (?:\p{L}+ ){0,2}?traduc\p{L}*`,
].join('|');
// Bare labels ("Translation:", "Traduction en français :", "翻译成中文："): stripped at the start only, never looked for inside.
const PREAMBLE_LABELS = [
  'translation', 'translated text', // en
  '翻译', '译文', '翻译结果', String.raw`\p{Script=Han}{1,2}文翻译`, // zh
  'перевод', 'переведённый текст', 'переведенный текст', // ru
  'traduction', 'texte traduit', // fr
  'traducción', 'texto traducido', // es
].join('|');
const PREAMBLE_OPENERS = ['sure', 'certainly', 'of course', 'okay', '好的', '当然', 'конечно', 'хорошо', 'bien sûr', "d[’']accord", 'claro', 'por supuesto'].join('|');
const OPENER = `(?:¡?(?:${PREAMBLE_OPENERS})[\\s,!.，！。]*)?`;
// "en français", "into French", "al español", "на русский язык", "成中文".
const LABEL_TARGET = String.raw`(?:\s+(?:en|in|into|to|al|a|на|в)\s+\p{L}+(?:\s+\p{L}+)?|成\p{Script=Han}{1,3})?`;
const LEADING_PREAMBLE = new RegExp(
  `^\\s*${OPENER}(?:(?:${PREAMBLE_PHRASES})[^\\n:：]{0,60}|(?:${PREAMBLE_LABELS})${LABEL_TARGET}\\s*)[:：]`,
  'iu',
);
const INNER_PREAMBLE = new RegExp(`(?<![\\p{L}\\p{N}])(?:${PREAMBLE_PHRASES})[^\\n:：]{0,60}[:：]`, 'giu');
// A first line that introduces the translation in words of its own ("La traducción al español del texto entre <text>
// y </text> es:", "El lenguaje natural traducido es:"): it names translating, ends in a colon, and the text follows.
const INTRO_LINE = /^([^\n]{0,160}?)[:：][ \t]*\n/u;
const TRANSLATING = /translat|tradu[cij]|перев[оеё]д|переведён|переведен|翻译|译文/iu;
// The whole reply fenced as plain text (```text … ```), which a prose source never is.
const PLAIN_FENCE = /^(\x60{3,})[ \t]*(?:text|plaintext|txt|markdown|md)?[ \t]*\n([\s\S]*?)\n[ \t]*\1[ \t]*$/iu;
// The prompt's wrapper tag (user_template: "<text>\n{text}\n</text>"), whole or half.
const TEXT_TAG = /<\s*\/?\s*text\s*>/giu;
const OPEN_TEXT = /^<\s*text\s*>\s*/iu;
const CLOSE_TEXT = /\s*<\s*\/\s*text\s*>$/iu;

/**
 * The model's reply without what it put around the translation: the prompt's `<text>` wrapper, whole or only one
 * half, a leading preamble ("Voici la traduction en français :", "以下是翻译：", "Translation:") or a first line of
 * its own words about translating that ends in a colon, with the translation after it, and a plain-text code fence
 * around the whole of it. Given the masked `source`, whatever the source itself starts or ends with is kept (a
 * ShareGPT answer may rightly begin "Here is the translation:").
 */
export function extractTranslation(content: string, source?: string): string {
  const src = source?.trim();
  const strip = (text: string, re: RegExp) => (src !== undefined && re.test(src) ? text : text.replace(re, ''));
  let text = content.trim();
  for (let pass = 0; pass < 4; pass++) {
    const before = text;
    const preamble = src !== undefined && LEADING_PREAMBLE.test(src) ? null : LEADING_PREAMBLE.exec(text);
    if (preamble && text.slice(preamble[0].length).trim() !== '') text = text.slice(preamble[0].length);
    const intro = INTRO_LINE.exec(text);
    if (intro && TRANSLATING.test(intro[1]!) && !TRANSLATING.test(src?.split('\n')[0] ?? '') && text.slice(intro[0].length).trim() !== '') text = text.slice(intro[0].length);
    text = strip(strip(text.trim(), OPEN_TEXT), CLOSE_TEXT).trim();
    const fenced = src !== undefined && /^\s*(?:\x60{3}|~{3})/.test(src) ? null : PLAIN_FENCE.exec(text);
    if (fenced) text = fenced[2]!.trim();
    if (text === before) break;
  }
  return text;
}

/**
 * Restores a masked translation: unwraps it (extractTranslation, given the masked `source` when known), applies the
 * language's script conversion (config `scriptConversion`; zh: t2s) to the prose only, then puts the protected spans back.
 */
export function restoreTranslation(
  content: string,
  slots: string[],
  options: { scriptConversion?: ScriptConversion; source?: string } = {},
): Unmasked {
  // Converting before unmasking keeps code, LaTeX and URLs byte for byte.
  return unmask(convertScript(extractTranslation(content, options.source), options.scriptConversion), slots);
}

/** What one attempt at a piece sends, and how its reply is read back before it is judged. */
export interface TranslationAttempt {
  /** The text put in the prompt. */
  prompt: string;
  /** The piece masked, and its protected spans: what the reply is judged and restored against. */
  masked: string;
  slots: string[];
  /** The reply as a reply to `masked` would read. */
  asMasked(reply: string): string;
}

/**
 * Attempt 0 sends the masked text; a retry sends the text as it is and finds its spans in the reply (maskBySlots):
 * the embedded model rewrites an opaque ⟦Pn⟧ it does not understand ({P0}, \boxed{P_0}) but copies `parse(x)`.
 */
export function translationAttempt(text: string, attempt: number): TranslationAttempt {
  const { masked, slots } = mask(text);
  const verbatim = attempt > 0 && slots.length > 0;
  return { prompt: verbatim ? text : masked, masked, slots, asMasked: (reply) => (verbatim ? maskBySlots(reply, slots) : reply) };
}

/** A reply judged by checkTranslation and, when kept, restored (restoreTranslation): the translation, or why it is dropped. */
export function acceptTranslation(
  output: TranslationOutput,
  options: Parameters<typeof checkTranslation>[1] & { scriptConversion?: ScriptConversion },
): { ok: true; text: string } | { ok: false; reason: string } {
  const verdict = checkTranslation(output, options);
  if (!verdict.keep) return { ok: false, reason: verdict.reason };
  return restoreTranslation(output.text, output.slots, { scriptConversion: options.scriptConversion, source: options.source });
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
  /** Below this many characters of source prose (placeholders out, SCRIPT_WEIGHTS applied) the length check is skipped. */
  minLengthRatioChars: z.number().int().nonnegative().default(200),
  /**
   * A translation whose prose is shorter than this share of the source's (characters, SCRIPT_WEIGHTS applied) is a
   * summary, not a translation. HumanEval docstrings and their UltraLink translations (164 tasks, ≥ 200 chars) give
   * es 0.91–1.19, fr 1.00–1.27, ru 0.88–1.23, zh 0.80–1.09 (5th–95th percentile), the lowest 0.60.
   */
  minLengthRatio: z.number().positive().default(0.5),
  /** A translation longer than this share of the source (same measure) has something added: notes, an answer, a second version. The highest on that data is 1.43. */
  maxLengthRatio: z.number().positive().default(2.5),
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
  /** The prompt's `<text>` tag, or a preamble ("Voici la traduction :"), still inside the reply once extractTranslation has taken off the ones around it. */
  'translate_wrapper_left',
  /** A note about the translation itself that the source does not hold ("Esta traducción es completa, fiel…"). */
  'translate_commentary',
  'translate_placeholder_altered',
  'translate_placeholder_duplicated',
  'translate_placeholder_lost',
  'translate_wrong_language',
  'translate_copied_source',
  /** A word that glues Cyrillic to Latin or Han letters ("в ТуPле"), or Latin to Han in a spaced text ("le经典"), and is not in the source: a slip between scripts mid-word. */
  'translate_mixed_script',
  /** A number of the source prose missing or changed, a new one, or a unit converted (km → 英里): small models "localise" and slip digits. */
  'translate_numbers_changed',
  /** Prose far shorter (a summary) or longer (added notes) than the source's, by minLengthRatio/maxLengthRatio. */
  'translate_length_ratio',
] as const;

/**
 * Drop reasons in check order: translate_truncated, translate_empty, translate_prompt_echo (when `instructions` are
 * given), translate_wrapper_left, translate_commentary, translate_placeholder_*, translate_wrong_language, translate_copied_source,
 * translate_mixed_script, translate_numbers_changed, translate_length_ratio (copied_source, numbers_changed and
 * length_ratio only when the masked `source` is given). The echo check comes before the placeholder check: an echo
 * of the principles carries their sample markers ⟦P0⟧, ⟦P1⟧, so it may pass the placeholder check or fail it under
 * the wrong name; it also comes before the wrapper check, as an echo of the user template holds its `<text>` tags.
 * The language check runs on the prose with placeholders removed and is skipped when that prose is short or a small
 * share of the text (mostly code/formulas), where fastText is unreliable; so is the copy check, which catches a
 * reply that left much of the source as it was, e.g. its first paragraph translated and the rest copied: fastText
 * may still see the target language in it. The number and length checks look at the prose alone and always run.
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
    minLengthRatioChars: options.minLengthRatioChars,
    minLengthRatio: options.minLengthRatio,
    maxLengthRatio: options.maxLengthRatio,
  });
  if (output.finishReason === 'length') return drop('translate_truncated');
  const masked = extractTranslation(output.text, options.source);
  if (masked.length === 0) return drop('translate_empty');
  if (options.instructions !== undefined && isPromptEcho(masked, options.instructions)) return drop('translate_prompt_echo');
  if (wrapperLeft(masked, options.source ?? '')) return drop('translate_wrapper_left');
  // A note about the translation itself (COMMENTARY) that the source does not hold: the model talking about its work.
  if (addedBeyondSource(masked, options.source ?? '', COMMENTARY)) return drop('translate_commentary');
  const restored = unmask(masked, output.slots);
  if (!restored.ok) return drop(restored.reason);
  // Placeholders are removed so protected code does not sway fastText.
  const prose = proseOf(masked);
  const { letters, share } = proseShare(masked, output.slots);
  if (letters >= opts.minProseLetters && share >= opts.minProseShare) {
    const { lang, score } = options.langId.detect(prose);
    if (lang !== options.expectedLabel && score >= opts.wrongLanguageMinProb) return drop('translate_wrong_language');
    if (options.source !== undefined) {
      // Numbers, placeholders and one-letter symbols (x, f) rightly stay as they are in a translation: not words here.
      const words = (prose: string) => prose.replace(/\p{N}+/gu, ' ');
      const { shared, total } = containment(words(withoutPlaceholders(options.source)), words(prose), COPY_SHINGLES);
      if (total >= opts.minCopyShingles && shared / total >= opts.maxCopiedShare) return drop('translate_copied_source');
    }
  }
  if (hasNewMixedScriptWord(prose, options.source ?? '')) return drop('translate_mixed_script');
  if (options.source === undefined) return KEEP;
  const sourceProse = proseOf(options.source);
  if (numbersChanged(sourceProse, prose)) return drop('translate_numbers_changed');
  const sourceLength = weightedLength(sourceProse);
  if (sourceLength >= opts.minLengthRatioChars) {
    const ratio = weightedLength(prose) / sourceLength;
    if (ratio < opts.minLengthRatio || ratio > opts.maxLengthRatio) return drop('translate_length_ratio');
  }
  return KEEP;
}

/** A masked text's prose: placeholders out, whitespace runs as one space. */
function proseOf(masked: string): string {
  return withoutPlaceholders(masked).replace(/\s+/g, ' ').trim();
}

// A note about the translation itself, which small models add after it ("Esta traducción es completa, fiel, natural…",
// "Cette traduction respecte…", "Этот перевод сохраняет…", "这个翻译准确…"): the phrase, then a verb saying what it does.
const COMMENTARY = new RegExp(
  [
    String.raw`(?:this|the above|the|my) translation (?:is|was|keeps|preserves|follows|respects|uses|maintains|captures|conveys)(?![\p{L}])`, // en
    String.raw`(?:esta|la|mi) traducción (?:es|está|mantiene|respeta|sigue|conserva|usa|utiliza|refleja|transmite)(?![\p{L}])`, // es
    String.raw`(?:cette|la|ma) traduction (?:est|respecte|conserve|suit|utilise|reste|reflète|rend|transmet)(?![\p{L}])`, // fr
    String.raw`(?:этот|данный|мой|такой) перевод (?:\p{L}+)`, // ru
    String.raw`(?:这个|此|该|以上|上述|这一|这段)(?:翻译|译文)(?:\p{Script=Han})`, // zh
  ].map((p) => String.raw`(?<![\p{L}])` + p).join('|'),
  'giu',
);

/** True when the reply holds more matches of the global `re` than the source does (a source may rightly hold some). */
function addedBeyondSource(masked: string, source: string, re: RegExp): boolean {
  return (masked.match(re)?.length ?? 0) > (source.match(re)?.length ?? 0);
}

/** True when the reply holds more `<text>` tags or preamble phrases than the source does (a source may talk about translations). */
function wrapperLeft(masked: string, source: string): boolean {
  return addedBeyondSource(masked, source, TEXT_TAG) || addedBeyondSource(masked, source, INNER_PREAMBLE);
}

/** Shingles of the copy check: four words in a row, short enough to catch a copied sentence, long enough to spare a copied name. */
const COPY_SHINGLES = { words: 4, minWordLength: 2 };

// Characters each script's letters count for in the length check, so that ratios sit near 1 whatever the target.
const SCRIPT_WEIGHTS: Array<[RegExp, number]> = [
  // Calibrated: UltraLink's zh HumanEval docstrings are 0.32× their English in characters, 0.92× at 3.5.
  [/\p{Script=Han}/u, 3.5],
  // An estimate, not calibrated here: ja kana and ko Hangul carry about twice an English letter.
  [/[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u, 2],
];

/** Length of prose in English-letter equivalents: each character counts 1, or its script's SCRIPT_WEIGHTS weight. */
export function weightedLength(prose: string): number {
  let n = 0;
  for (const ch of prose) n += SCRIPT_WEIGHTS.find(([re]) => re.test(ch))?.[1] ?? 1;
  return n;
}

/** A number as written: digit runs joined by "." or "," ("3.5", "1,000", "1.234,5"), or by a space before three digits ("1 000"). Global: use with match/matchAll. */
export const NUMBER = /\d+(?:(?:[.,]|[ \u00a0\u202f](?=\d{3}(?!\d)))\d+)*/gu;
// Words after a number that scale it, as powers of ten: "1.5 million" = "150万" = "1,5 млн".
const SCALE_WORDS: Array<[string, number]> = [
  ['thousands?', 3], ['k', 3], ['millions?', 6], ['billions?', 9], ['bn', 9], ['trillions?', 12], // en
  ['百', 2], ['千', 3], ['万', 4], ['亿', 8], // zh
  [String.raw`тыс\.?`, 3], ['тысяч[аиу]?', 3], [String.raw`млн\.?`, 6], ['миллион(?:а|ов)?', 6], [String.raw`млрд\.?`, 9], ['миллиард(?:а|ов)?', 9], [String.raw`трлн\.?`, 12], // ru
  ['mille', 3], ['milliards?', 9], // fr (millions as en)
  ['mil', 3], ['mill[oó]n(?:es)?', 6], ['bill[oó]n(?:es)?', 12], // es
];
const SCALE = new RegExp(`^[\\s\\u00a0\\u202f]?(?:${SCALE_WORDS.map(([w]) => `(${w})`).join('|')})(?![\\p{Ll}\\p{Lu}])`, 'iu');
// Number words of an English source, counted for matching only: "the twentieth century" may become "20世纪".
const EN_NUMBER_WORDS: Record<string, number> = Object.fromEntries([
  ...['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'].map((w, i) => [w, i]),
  ...['twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'].map((w, i) => [w, 20 + 10 * i]),
  ...['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth', 'eleventh', 'twelfth', 'thirteenth', 'fourteenth', 'fifteenth', 'sixteenth', 'seventeenth', 'eighteenth', 'nineteenth'].map((w, i) => [w, i + 1]),
  ...['twentieth', 'thirtieth', 'fortieth', 'fiftieth', 'sixtieth', 'seventieth', 'eightieth', 'ninetieth'].map((w, i) => [w, 20 + 10 * i]),
  ['dozen', 12], ['hundred', 100], ['hundredth', 100], ['thousand', 1000], ['thousandth', 1000],
]);
const ROMAN: Record<string, number> = { I: 1, V: 5, X: 10 };
const ZH_DIGITS: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
const ZH_UNITS: Record<string, number> = { 十: 10, 百: 100, 千: 1000, 万: 1e4, 亿: 1e8 };

/** A number of the prose: every value it may stand for, and whether it is small enough to be written as a word. */
interface NumberToken {
  readings: string[];
  small: boolean;
  /** Where the digits end, and where a scale word after them ends (the same without one). */
  digitsEnd: number;
  end: number;
}

/**
 * The numbers of a text's prose (tokens), and every value any of them, or a number word, Roman or Chinese numeral
 * of the text, may stand for (pool). A token reads both ways when it is ambiguous ("1,000" = 1000 or 1.000) and
 * scaled when a scale word follows ("3万" = 30000).
 */
function readNumbers(prose: string): { tokens: NumberToken[]; pool: Set<string> } {
  const text = prose.replace(/[０-９]/gu, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
  const tokens: NumberToken[] = [];
  const pool = new Set<string>();
  for (const m of text.matchAll(NUMBER)) {
    const base = baseReadings(m[0]);
    const readings = new Set(base);
    let end = m.index + m[0].length;
    let exponent = 0;
    for (let scale = SCALE.exec(text.slice(end)); scale; scale = SCALE.exec(text.slice(end))) {
      exponent += SCALE_WORDS[scale.slice(1).findIndex((g) => g !== undefined)]![1];
      end += scale[0].length;
    }
    for (const r of base) if (exponent > 0) readings.add(shift(r, exponent));
    const after = text.slice(end);
    // "the 1990s" = "90年代" = "20世纪90年代"; "10:30 pm" = "22:30".
    if (/^\d{3}0$/.test(m[0]) && /^['’]?s(?!\p{L})/u.test(after)) {
      readings.add(m[0].slice(2));
      pool.add(String(Math.floor(Number(m[0]) / 100) + 1));
    }
    if (/^\d{1,2}$/.test(m[0]) && Number(m[0]) <= 12 && /^(?::\d{2})?\s?p\.?\s?m(?:\.|(?!\p{L}))/iu.test(after)) readings.add(String(Number(m[0]) + 12));
    const small = exponent === 0 && base.length === 1 && /^\d+$/.test(base[0]!) && Number(base[0]) <= 12;
    tokens.push({ readings: [...readings], small, digitsEnd: m.index + m[0].length, end });
    for (const r of readings) pool.add(r);
  }
  for (const value of wordNumbers(text)) pool.add(String(value));
  return { tokens, pool };
}

/** The values a written number may stand for, canonical ("6.00" → "6", "1 000" → "1000"); a list or version ("1,2,3", "5,2", "3.10.2") also reads as its parts. */
function baseReadings(raw: string): string[] {
  const groups = raw.split(/[.,\s\u00a0\u202f]/u);
  const marks = raw.match(/[.,]/g) ?? [];
  const spaced = /[\s\u00a0\u202f]/u.test(raw);
  const out = new Set<string>();
  const digits = (s: string) => s.replace(/\D/g, '');
  if (marks.length === 0) out.add(canonical(digits(raw), ''));
  else if (new Set(marks).size === 1 && marks.length === 1) {
    const at = raw.search(/[.,]/);
    const [int, frac] = [digits(raw.slice(0, at)), digits(raw.slice(at + 1))];
    out.add(canonical(int, frac));
    if (frac.length === 3 && int !== '0') out.add(canonical(int + frac, ''));
    // "[-1,-5,2]": a comma between digits is as often a list as a decimal comma.
    else if (marks[0] === ',') for (const g of groups) out.add(canonical(g, ''));
  } else if (new Set(marks).size === 1 && groups.slice(1).every((g) => g.length === 3)) out.add(canonical(digits(raw), ''));
  else if (new Set(marks).size === 2 && raw.indexOf(marks.at(-1)!) === raw.lastIndexOf(marks.at(-1)!)) {
    // "1,234.5" / "1.234,5": the last mark is the decimal one.
    const at = raw.lastIndexOf(marks.at(-1)!);
    out.add(canonical(digits(raw.slice(0, at)), digits(raw.slice(at + 1))));
  }
  if (spaced || out.size === 0) for (const g of groups) out.add(canonical(g, ''));
  return [...out];
}

function canonical(int: string, frac: string): string {
  const i = int.replace(/^0+(?=\d)/, '') || '0';
  const f = frac.replace(/0+$/, '');
  return f === '' ? i : `${i}.${f}`;
}

/** A canonical value times 10^exponent. */
function shift(value: string, exponent: number): string {
  const [int, frac = ''] = value.split('.');
  const padded = frac.padEnd(exponent, '0');
  return canonical(int! + padded.slice(0, exponent), padded.slice(exponent));
}

/** Values of English number words ("twenty-first", "two hundred"), Roman numerals ("XXe siècle") and Chinese numerals ("二十一"). */
function wordNumbers(text: string): number[] {
  const out: number[] = [];
  let run: number[] = [];
  const flush = () => {
    if (run.length === 0) return;
    let total = 0;
    let current = 0;
    for (const v of run) {
      if (v === 100 || v === 1000) current = (current || 1) * v;
      else current += v;
      if (v === 1000) [total, current] = [total + current, 0];
    }
    out.push(total + current, ...run);
    run = [];
  };
  for (const m of text.toLowerCase().matchAll(/\p{L}+|[^\p{L}]+/gu)) {
    const value = EN_NUMBER_WORDS[m[0]];
    if (value !== undefined) run.push(value);
    else if (!/^[\s-]+$|^and$/u.test(m[0])) flush();
  }
  flush();
  for (const m of text.matchAll(/(?<![\p{L}\p{N}])([IVX]{2,7})(?=(?:e|er|ème|eme|-\p{Ll}{1,3})?(?![\p{L}\p{N}]))/gu)) {
    if (!/^X{0,3}(?:IX|IV|V?I{0,3})$/.test(m[1]!)) continue;
    const values = [...m[1]!].map((c) => ROMAN[c]!);
    out.push(values.reduce((sum, v, i) => sum + (v < (values[i + 1] ?? 0) ? -v : v), 0));
  }
  for (const m of text.matchAll(/[零〇一二两三四五六七八九十百千万亿]+/gu)) {
    const value = zhNumeral(m[0]);
    if (value !== undefined) out.push(value);
  }
  return out;
}

/** The value of a Chinese numeral ("二十一" = 21, "三万五千" = 35000, "一九九〇" = 1990). */
function zhNumeral(s: string): number | undefined {
  const chars = [...s];
  if (chars.every((c) => c in ZH_DIGITS)) return chars.length === 1 || chars.length === 4 ? Number(chars.map((c) => ZH_DIGITS[c]).join('')) : undefined;
  let total = 0;
  let section = 0;
  let digit: number | undefined;
  for (const c of chars) {
    const unit = ZH_UNITS[c];
    if (unit === undefined) digit = ZH_DIGITS[c];
    else if (unit >= 1e4) [total, section, digit] = [(total + section + (digit ?? 0)) * unit, 0, undefined];
    else [section, digit] = [section + (digit ?? 1) * unit, undefined];
  }
  const value = total + section + (digit ?? 0);
  return value > 0 ? value : undefined;
}

/**
 * Units per language, each surface mapped to the canonical units it may mean. `words` are looked for after a
 * number of the translation and anywhere in the source; `abbreviations` (one letter, or ambiguous) only in the
 * source, so a source's "5 m" allows a "5米".
 */
const UNIT_TABLE: Array<{ units: string[]; words: string[]; abbreviations?: string[] }> = [
  { units: ['km'], words: ['km', 'kilomet(?:er|re)s?', 'kilomètres?', 'kilómetros?', String.raw`километр\p{L}*`, 'км', '公里', '千米'], abbreviations: ['kph', 'kmh'] },
  { units: ['m'], words: ['met(?:er|re)s?', 'mètres?', 'metros?', 'метр(?:а|ов|ах|ами|ы)?', '米'], abbreviations: ['m', 'м'] },
  { units: ['cm'], words: ['cm', 'centimet(?:er|re)s?', 'centimètres?', 'centímetros?', String.raw`сантиметр\p{L}*`, 'см', '厘米', '公分'] },
  { units: ['mm'], words: ['mm', 'millimet(?:er|re)s?', 'millimètres?', 'milímetros?', String.raw`миллиметр\p{L}*`, 'мм', '毫米'] },
  { units: ['mile'], words: ['miles?', 'milles?', 'millas?', 'мил(?:я|и|ь|е|ю|ей|ям|ях|ями)', '英里'], abbreviations: ['mi', 'mph'] },
  { units: ['ft'], words: ['ft', 'feet', 'foot', 'pieds?', 'pies?', 'фут(?:а|ов|ы)?', '英尺'] },
  { units: ['inch'], words: ['inch(?:es)?', 'pouces?', 'pulgadas?', 'дюйм(?:а|ов|ы)?', '英寸'], abbreviations: ['in'] },
  { units: ['yard'], words: ['yards?', 'yd', 'yardas?', 'ярд(?:а|ов|ы)?'], abbreviations: ['码'] },
  { units: ['kg'], words: ['kgs?', 'kilos?', 'kilogram(?:me)?s?', 'kilogramos?', String.raw`килограмм\p{L}*`, 'кило', 'кг', '公斤', '千克'] },
  { units: ['g'], words: ['grams?', 'grammes?', 'gramos?', 'грамм(?:а|ов|ы)?', '克'], abbreviations: ['g', 'г'] },
  { units: ['mg'], words: ['mg', 'milligram(?:me)?s?', 'miligramos?', String.raw`миллиграмм\p{L}*`, 'мг', '毫克'] },
  { units: ['lb', 'gbp'], words: ['pounds?', 'libras?', 'фунт(?:а|ов|ы)?'] },
  { units: ['lb'], words: ['lbs?', '磅'] },
  { units: ['oz'], words: ['oz', 'ounces?', 'onces?', 'onzas?', 'унци(?:я|и|й|ю)', '盎司'] },
  { units: ['ton'], words: ['tons?', 'tonnes?', 'toneladas?', 'тонн(?:а|ы|у)?', '吨'] },
  { units: ['l'], words: ['lit(?:er|re)s?', 'litres?', 'litros?', 'литр(?:а|ов|ы)?', '升', '公升'], abbreviations: ['l', 'л'] },
  { units: ['ml'], words: ['ml', 'millilit(?:er|re)s?', 'millilitres?', 'mililitros?', String.raw`миллилитр\p{L}*`, 'мл', '毫升'], abbreviations: ['cc'] },
  { units: ['gallon'], words: ['gallons?', 'gal', 'galons?', 'galones?', 'галлон(?:а|ов|ы)?', '加仑'] },
  // Clock times and "pm" allow hours: "10:30" may become "10 heures 30".
  { units: ['hour'], words: ['hours?', 'hrs?', 'heures?', 'horas?', 'час(?:а|ов)?', '个?小时', '钟头'], abbreviations: ['h', 'ч', String.raw`\d{1,2}:\d{2}`, String.raw`a\.?m\.?`, String.raw`p\.?m\.?`, "o[’']clock", '点', 'mph', 'kph', 'kmh'] },
  { units: ['minute'], words: ['minutes?', 'mins?', 'minutos?', 'минут(?:а|ы|у)?', '分钟'], abbreviations: [String.raw`\d{1,2}:\d{2}`, '分'] },
  { units: ['second'], words: ['seconds?', 'secs?', 'secondes?', 'segundos?', 'секунд(?:а|ы|у)?', '秒钟?'], abbreviations: ['s', 'с'] },
  { units: ['percent'], words: ['%', '％', 'percent', 'per cent', 'pour cent', 'por ciento', 'процент(?:а|ов)?'] },
  { units: ['celsius'], words: [String.raw`°\s?c`, '℃', '(?:degrees? )?celsius', '(?:degrés? )?celsius', '(?:grados? )?celsius', String.raw`градус\p{L}* цельсия`, '摄氏度'] },
  { units: ['fahrenheit'], words: [String.raw`°\s?f`, '℉', '(?:degrees? )?fahrenheit', '(?:degrés? )?fahrenheit', '(?:grados? )?fahrenheit', String.raw`градус\p{L}* (?:по )?фаренгейт\p{L}*`, '华氏度'] },
  { units: ['degree', 'celsius', 'fahrenheit'], words: ['°', 'degrees?', 'degrés?', 'grados?', 'градус(?:а|ов)?', '度'] },
  { units: ['usd'], words: [String.raw`us\$`, String.raw`\$`, 'usd', 'dollars?', 'dólar(?:es)?', 'доллар(?:а|ов|ы)?', '美元', '美金'] },
  { units: ['eur'], words: ['€', 'eur', 'euros?', 'евро', '欧元'] },
  { units: ['gbp'], words: ['£', 'gbp', 'sterling', 'esterlinas?', String.raw`стерлинг\p{L}*`, '英镑'] },
  { units: ['jpy'], words: ['yens?', 'jpy', 'иен(?:а|ы)?', 'йен(?:а|ы)?', '日元'] },
  { units: ['cny'], words: ['yuans?', 'rmb', 'cny', 'юан(?:ь|я|ей|и)?', '人民币'] },
  { units: ['jpy', 'cny'], words: ['¥', '￥'] },
  // 元 follows any amount of money in zh.
  { units: ['usd', 'eur', 'gbp', 'jpy', 'cny', 'cent'], words: ['元'] },
  { units: ['cent'], words: ['cents?', 'centimes?', 'céntimos?', 'centavos?', 'цент(?:а|ов|ы)?', '美分'] },
];
const CURRENCIES = new Set(['usd', 'eur', 'gbp', 'jpy', 'cny']);
const unitRegex = (surfaces: string[]) => new RegExp(`(?<![\\p{Ll}\\p{Lu}])(?:${surfaces.join('|')})(?![\\p{Ll}\\p{Lu}])`, 'giu');
const UNIT_REGEXES = UNIT_TABLE.map((u) => ({ units: u.units, words: unitRegex(u.words), all: unitRegex([...u.words, ...(u.abbreviations ?? [])]) }));

/** Unit mentions of a text, the longest where they overlap ("千米" over "米", "°F" over "°"). */
function scanUnits(text: string, withAbbreviations: boolean): Array<{ start: number; end: number; units: string[] }> {
  const hits: Array<{ start: number; end: number; units: string[] }> = [];
  for (const u of UNIT_REGEXES) {
    for (const m of text.matchAll(withAbbreviations ? u.all : u.words)) hits.push({ start: m.index, end: m.index + m[0].length, units: u.units });
  }
  hits.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: typeof hits = [];
  for (const h of hits) if (out.length === 0 || h.start >= out.at(-1)!.end) out.push(h);
  return out;
}

/**
 * True when the translation's numbers differ from the source's: a number lost or changed, or a new one. A small
 * integer (0–12) may go missing or appear on its own (written as a word, "March" → "3月"), not both ("3" → "4").
 * Values are compared, so digit grouping, a decimal comma and a scale word do not matter ("1,5 млн" = "1.5
 * million"). Also true when a number of the translation carries a unit the source never names (km → 英里).
 */
function numbersChanged(sourceProse: string, prose: string): boolean {
  const source = readNumbers(sourceProse);
  const output = readNumbers(prose);
  // A source without numbers still bounds its translation: a new number there is made up, unless small enough to be
  // a word the source has ("a" → "1", "one" → "1").
  if (source.tokens.length === 0 && output.tokens.every((t) => t.small)) return false;
  const missing = source.tokens.filter((t) => !t.readings.some((r) => output.pool.has(r)));
  const added = output.tokens.filter((t) => !t.readings.some((r) => source.pool.has(r)));
  if ([...missing, ...added].some((t) => !t.small) || (missing.length > 0 && added.length > 0)) return true;
  const named = new Set(scanUnits(sourceProse, true).flatMap((h) => h.units));
  const text = prose.replace(/[０-９]/gu, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
  const starts = new Set([...text.matchAll(NUMBER)].map((m) => m.index));
  const follows = (end: number, start: number) => end <= start && /^[\s\u00a0\u202f-]?$/u.test(text.slice(end, start));
  for (const hit of scanUnits(text, false)) {
    // "5 km", "5千米" (千 also scales), "5-mile"; a currency sign may come first: "$5", "€ 5".
    const afterNumber = output.tokens.some((t) => follows(t.digitsEnd, hit.start) || follows(t.end, hit.start));
    const symbolBefore = hit.units.some((u) => CURRENCIES.has(u)) && !/\p{L}/u.test(text.slice(hit.start, hit.end)) && [hit.end, hit.end + 1].some((i) => starts.has(i) && follows(hit.end, i));
    if ((afterNumber || symbolBefore) && !hit.units.some((u) => named.has(u))) return true;
  }
  return false;
}
