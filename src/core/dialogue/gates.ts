/**
 * Quality gates on every dialogue LLM call (issue 3): prompt fit, truncation, emptiness, prompt echo (issue 7),
 * length, language; plus the cleaning every output goes through first (zh t2s, question numbering/labels/quotes,
 * wrapper tags and trailers).
 */
import type { FinishReason } from '../../llm/types';
import { drop, KEEP, type Verdict } from '../stats';
import { isPromptEcho } from '../text/echo';
import type { LangId } from '../text/lang-id';
import { convertScript, type ScriptConversion } from '../text/script';

/** Drop reasons of this stage, one per gate. */
export const DIALOGUE_DROP_REASONS = [
  'dialogue_context_overflow',
  'dialogue_truncated',
  'dialogue_content_filtered',
  'dialogue_empty',
  'dialogue_prompt_echo',
  'dialogue_repeated_question',
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

// Tag names a small model wraps a question in (`<question>`, `<q>`, `<вопрос>`, `[Question]`, `【问题】`).
const TAG_WORDS = [...LABEL_WORDS, 'query', 'prompt', 'output', 'response', 'text'].join('|');
const OPEN_TAG = /^<([\p{L}][\p{L}\p{N}_-]*)(?:\s[^<>]*)?>\s*/u;
const OPEN_WRAPPER = new RegExp(`^(?:<\\s*(?:${TAG_WORDS})\\s*>|[\\[【]\\s*(?:${TAG_WORDS})(?:\\s*\\d{1,2})?\\s*[\\]】])\\s*[:：]?\\s*`, 'iu');
const CLOSE_WRAPPER = new RegExp(`<\\s*/\\s*(?:${TAG_WORDS})\\s*>|\\[\\s*/\\s*(?:${TAG_WORDS})\\s*\\]`, 'iu');
const QUESTION_MARK = '?？؟';
// Closing quotes, brackets and bold markers that may follow a sentence's final mark (fr: after a no-break space).
const CLOSERS = '(?:[\\u00a0\\u202f]?["\'”’»」』）)\\]*])*';
// A sentence end: full-width marks need no space after them; ASCII ones do (never "1.5", "e.g.x"); a line break.
const SENTENCE_END = new RegExp(`[。！？]+${CLOSERS}|[.!?…؟]+${CLOSERS}(?=\\s|$)|\\n`, 'gu');
const ENDS_WITH_QUESTION = new RegExp(`[${QUESTION_MARK}]${CLOSERS}$`, 'u');

/**
 * Strips numbering, labels ("Question:", "问题：", "Вопрос:", "Question :", "Pregunta:"), wrapping quotes and
 * wrapper tags (`<question>…</question>`, `[Question]`), and cuts a trailer after the question (extra lines, an
 * answer, "Your answer would be:"). A question without a trailer is never cut.
 */
export function cleanQuestion(raw: string): string {
  let text = raw.trim();
  for (let pass = 0; pass < 8; pass++) {
    const before = text;
    text = stripWrapperTags(text);
    if (/^\*\*[^*]+\*\*$/u.test(text)) text = text.slice(2, -2).trim();
    text = text.replace(NUMBERING, '').replace(LABEL, '').trim();
    text = stripQuotes(text);
    text = cutTrailer(text);
    if (text === before) break;
  }
  return text;
}

/**
 * The finish reason a question is judged by. An output that ran out of tokens after a complete question (small
 * models ramble on) still holds that whole question once cleanQuestion has cut the rest away, so it counts as
 * stopped; a question itself cut off by the limit stays truncated.
 */
export function questionFinishReason(finishReason: FinishReason, raw: string, cleaned: string): FinishReason {
  if (finishReason !== 'length' || !ENDS_WITH_QUESTION.test(cleaned)) return finishReason;
  return raw.trimEnd().endsWith(cleaned) ? finishReason : 'stop';
}

/**
 * Cuts an answer where the model starts writing the conversation's next turn itself ("User: …", in the pack's
 * own labels or in English), which small models do. Returns the answer and whether anything was cut: an answer
 * cut there ended before any token limit did, so it counts as stopped.
 */
export function cleanAnswer(raw: string, labels: { user: string; assistant: string }): { text: string; cut: boolean } {
  const names = [labels.user, labels.assistant, 'User', 'Assistant'].map(escapeRegExp).join('|');
  const turn = new RegExp(`^[ \\t]*(?:\\*\\*)?(?:${names})(?:\\*\\*)?\\s*[:：]`, 'imu').exec(raw);
  if (!turn || turn.index === 0) return { text: raw, cut: false };
  return { text: raw.slice(0, turn.index).trim(), cut: true };
}

/**
 * Cleans a question (cleanQuestion) or an answer (cleanAnswer) and gives the finish reason it is judged by: what
 * the cleaner cut off a length-limited output was the ramble, so the kept text counts as stopped.
 */
export function cleanOutput(
  role: 'question' | 'answer',
  normalised: string,
  finishReason: FinishReason,
  labels: { user: string; assistant: string },
): { text: string; finishReason: FinishReason } {
  if (role === 'answer') {
    const answer = cleanAnswer(normalised, labels);
    return { text: answer.text, finishReason: answer.cut ? 'stop' : finishReason };
  }
  const text = cleanQuestion(normalised);
  return { text, finishReason: questionFinishReason(finishReason, normalised, text) };
}

function stripWrapperTags(text: string): string {
  const open = OPEN_TAG.exec(text);
  if (open) {
    const close = new RegExp(`<\\s*/\\s*${escapeRegExp(open[1]!)}\\s*>`, 'iu').exec(text);
    if (close && close.index >= open[0].length) {
      const inner = text.slice(open[0].length, close.index).trim();
      const rest = text.slice(close.index + close[0].length);
      // The wrapped part is the question, the rest a trailer; a tag around a mere word ("<b>Note</b>: why…?") only goes.
      if (rest.trim() === '' || new RegExp(`[${QUESTION_MARK}]`, 'u').test(inner)) return inner;
      return `${inner}${rest}`.trim();
    }
  }
  text = text.replace(OPEN_WRAPPER, '');
  const close = CLOSE_WRAPPER.exec(text);
  return (close ? text.slice(0, close.index) : text).trim();
}

/** Keeps the text up to the end of the first run of question sentences when something follows it. */
function cutTrailer(text: string): string {
  let start = 0;
  let runEnd = -1;
  const consider = (end: number): boolean => {
    const isQuestion = ENDS_WITH_QUESTION.test(text.slice(start, end).trim());
    start = end;
    if (isQuestion) runEnd = end;
    // A non-question sentence after the run ends it.
    return runEnd >= 0 && !isQuestion;
  };
  let ended = false;
  for (const m of text.matchAll(SENTENCE_END)) {
    if (text.slice(start, m.index + m[0].length).trim() === '') continue;
    if ((ended = consider(m.index + m[0].length))) break;
  }
  if (!ended && start < text.length) consider(text.length);
  if (runEnd < 0 || text.slice(runEnd).trim() === '') return text;
  return text.slice(0, runEnd).trim();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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
  /** The prompt's instructions (system prompt and principles, never the document or history), for the echo gate. */
  instructions?: string;
  /** For a follow-up question: the questions of the earlier turns; asking one again is dropped. */
  earlierQuestions?: string[];
}

/** Thresholds and the language identifier for `checkCompletion`. */
export interface CompletionCheckOptions {
  langId: LangId;
  minAnswerTokens: number;
  minQuestionChars: number;
  /** fastText label of the target language; defaults to `lang`. */
  expectedLabel?: string;
}

/**
 * Keeps an output, or drops it: truncated, filtered, empty, an echo of the instructions, a question the dialogue
 * already asked, too short, or not in the target language.
 */
export function checkCompletion(input: CompletionCheckInput, options: CompletionCheckOptions): Verdict {
  if (input.finishReason === 'length') return drop('dialogue_truncated');
  if (input.finishReason === 'content_filter') return drop('dialogue_content_filtered');
  const text = input.text.trim();
  if (text === '') return drop('dialogue_empty');
  if (input.instructions !== undefined && isPromptEcho(text, input.instructions)) return drop('dialogue_prompt_echo');
  if (input.role === 'question' && input.earlierQuestions?.some((q) => sameQuestion(q, text))) return drop('dialogue_repeated_question');
  const tooShort =
    input.role === 'answer' ? input.tokens < options.minAnswerTokens : [...text].length < options.minQuestionChars;
  if (tooShort) return drop('dialogue_too_short');
  const expected = stripLabel(options.expectedLabel ?? input.lang);
  if (stripLabel(options.langId.detect(text).lang) !== expected) return drop('dialogue_wrong_language');
  return KEEP;
}

/** Two questions are the same when they differ only in case, spacing and punctuation. */
function sameQuestion(a: string, b: string): boolean {
  const key = (t: string) => (t.toLowerCase().match(/[\p{L}\p{M}\p{N}]+/gu) ?? []).join(' ');
  return key(a) === key(b);
}

/** Drops a prompt that cannot fit the context window together with the requested completion. */
export function checkPromptFits(input: { promptTokens: number; maxCompletionTokens: number; contextWindow: number }): Verdict {
  return input.promptTokens + input.maxCompletionTokens > input.contextWindow ? drop('dialogue_context_overflow') : KEEP;
}

function stripLabel(label: string): string {
  return label.replace(/^__label__/, '').toLowerCase();
}
