/**
 * Quality gates on every dialogue LLM call (issue 3): prompt fit, truncation, emptiness, length, language;
 * plus the cleaning every output goes through first (zh t2s, question numbering/labels/quotes).
 */
import type { FinishReason } from '../../llm/types';
import { drop, KEEP, type Verdict } from '../stats';
import type { LangId } from '../text/lang-id';
import { convertScript, type ScriptConversion } from '../text/script';

/** Drop reasons of this stage, one per gate. */
export const DIALOGUE_DROP_REASONS = [
  'dialogue_context_overflow',
  'dialogue_truncated',
  'dialogue_content_filtered',
  'dialogue_empty',
  'dialogue_too_short',
  'dialogue_wrong_language',
] as const;

/** The injected language identifier (`loadLangId()` wraps fastText lid.176); a `__label__` prefix is tolerated. */
export type { LangId };

/** Trims, unifies line ends and applies the language's script conversion (`t2s`: OpenCC, as for extracted text). */
export function normaliseOutput(text: string, options: { scriptConversion?: ScriptConversion }): string {
  return convertScript(text.replace(/\r\n?/g, '\n').trim(), options.scriptConversion);
}

const LABEL_WORDS = [
  // en
  'question', 'follow[- ]?up question', 'in[- ]depth question', 'expansive question', 'broadening question', 'next question', 'q', 'user',
  // zh
  '问题', '问', '提问', '追问', '后续问题', '深入问题', '拓展问题', '拓展性问题', '用户',
  // ru
  'вопрос', 'уточняющий вопрос', 'следующий вопрос', 'расширяющий вопрос', 'пользователь',
  // fr
  'question de relance', 'question de suivi', "question d[’']élargissement", 'utilisateur',
  // es
  'pregunta', 'pregunta de seguimiento', 'pregunta de ampliación', 'usuario',
];
// Optional markdown bold around the label: "**Question:**", "**Question**:".
const LABEL = new RegExp(`^(?:\\*\\*)?(?:${LABEL_WORDS.join('|')})(?:\\s*[#№]?\\s*\\d{1,2})?\\s*(?:\\*\\*)?\\s*[:：]\\s*(?:\\*\\*)?\\s*`, 'iu');
// "1." "2)" "3、" "(4)" "Q1." "- " "* " "### " — but never a number that starts the question itself ("1.5 million…").
const NUMBERING = /^(?:\(\d{1,2}\)|\d{1,2}\s*[.)、．](?!\d)|q\d{1,2}\s*[.)]|[-*•]\s|#{1,6}\s)\s*/iu;
const QUOTE_PAIRS: Array<[string, string]> = [
  ['"', '"'], ['“', '”'], ['«', '»'], ['「', '」'], ['『', '』'], ['„', '“'], ['‘', '’'], ["'", "'"], ['”', '”'],
];

/** Strips numbering, labels ("Question:", "问题：", "Вопрос:", "Question :", "Pregunta:") and wrapping quotes. */
export function cleanQuestion(raw: string): string {
  let text = raw.trim();
  for (let pass = 0; pass < 8; pass++) {
    const before = text;
    if (/^\*\*[^*]+\*\*$/u.test(text)) text = text.slice(2, -2).trim();
    text = text.replace(NUMBERING, '').replace(LABEL, '').trim();
    text = stripQuotes(text);
    if (text === before) break;
  }
  return text;
}

function stripQuotes(text: string): string {
  for (const [open, close] of QUOTE_PAIRS) {
    if (text.length < open.length + close.length + 1 || !text.startsWith(open) || !text.endsWith(close)) continue;
    const inner = text.slice(open.length, text.length - close.length);
    // `"A" or "B"` is not one quoted question: keep it whole.
    if (inner.includes(close) || (open !== close && inner.includes(open))) continue;
    return inner.trim();
  }
  return text;
}

/** One LLM output to judge, already normalised (and cleaned, for questions). */
export interface CompletionCheckInput {
  text: string;
  finishReason: FinishReason;
  /** Target language code. */
  lang: string;
  role: 'question' | 'answer';
  /** Completion tokens (cl100k_base) of `text`. */
  tokens: number;
}

/** Thresholds and the language identifier for `checkCompletion`. */
export interface CompletionCheckOptions {
  langId: LangId;
  minAnswerTokens: number;
  minQuestionChars: number;
  /** fastText label of the target language; defaults to `lang`. */
  expectedLabel?: string;
}

/** Keeps an output, or drops it: truncated, filtered, empty, too short, or not in the target language. */
export function checkCompletion(input: CompletionCheckInput, options: CompletionCheckOptions): Verdict {
  if (input.finishReason === 'length') return drop('dialogue_truncated');
  if (input.finishReason === 'content_filter') return drop('dialogue_content_filtered');
  const text = input.text.trim();
  if (text === '') return drop('dialogue_empty');
  const tooShort =
    input.role === 'answer' ? input.tokens < options.minAnswerTokens : [...text].length < options.minQuestionChars;
  if (tooShort) return drop('dialogue_too_short');
  const expected = stripLabel(options.expectedLabel ?? input.lang);
  if (stripLabel(options.langId.detect(text).lang) !== expected) return drop('dialogue_wrong_language');
  return KEEP;
}

/** Drops a prompt that cannot fit the context window together with the requested completion. */
export function checkPromptFits(input: { promptTokens: number; maxCompletionTokens: number; contextWindow: number }): Verdict {
  return input.promptTokens + input.maxCompletionTokens > input.contextWindow ? drop('dialogue_context_overflow') : KEEP;
}

function stripLabel(label: string): string {
  return label.replace(/^__label__/, '').toLowerCase();
}
