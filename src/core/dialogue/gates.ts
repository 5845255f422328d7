/**
 * Quality gates on every dialogue LLM call (issue 3): prompt fit, truncation, emptiness, prompt echo (issue 7),
 * what small local models do (issue 15: preambles, questions copied from the document, near-repeats, answers that
 * repeat), length, language; plus the cleaning every output goes through first (zh t2s, question
 * numbering/labels/quotes, preambles, wrapper tags and trailers).
 */
import type { ChatMessage, FinishReason } from '../messages';
import { drop, KEEP, type Verdict } from '../stats';
import { containment, isPromptEcho, isUnspaced, type ShingleOptions } from '../text/echo';
import { looksTruncated } from '../text/ending';
import type { LangId } from '../text/lang-id';
import { escapeRegExp } from '../text/regexp';
import { convertScript, hasNewMixedScriptWord, type ScriptConversion } from '../text/script';
import { instructionText } from './render';

/** Drop reasons of this stage, one per gate, in check order. */
export const DIALOGUE_DROP_REASONS = [
  'dialogue_context_overflow',
  'dialogue_truncated',
  'dialogue_content_filtered',
  'dialogue_empty',
  'dialogue_prompt_echo',
  /** A preamble ("Voici la question :", "以下是问题：") with nothing after it, or left inside the output: cleaning strips a leading one that has content after it. */
  'dialogue_preamble',
  /** A word that glues Cyrillic to Latin or Han letters ("в ТуPле", "deли", "在Как"), or Latin to Han in a spaced text ("Dans英国"), and is not in the document: a slip between scripts mid-word. */
  'dialogue_mixed_script',
  /** A question that is a document sentence (nearly all its shingles in the document) and asks nothing of its own. */
  'dialogue_copied_document',
  /** A follow-up equal to an earlier question up to case, spacing and punctuation. */
  'dialogue_repeated_question',
  /** A follow-up that is an earlier question with a word or two added or left out ("代表" + the first question); counted apart from exact repeats. */
  'dialogue_near_repeat_question',
  /** An answer that is its question again, or a long verbatim copy of the document. */
  'dialogue_answer_repeats',
  'dialogue_too_short',
  /** An answer that stops mid-sentence (on a letter, comma, colon or opener) though the model said it stopped: "Based on the information provided in the document". */
  'dialogue_unfinished',
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

// Lead-ins a small model writes before the question or answer itself ("Here is the question:", "Pour formuler cette
// question, je serais :"); matched at a line start, optionally after an opener ("Sure!"), with up to 60 characters more
// before the colon. Each names the question or answer, so a real answer's "Here are the key points:" is no preamble.
const PREAMBLE_WORDS = [
  // en
  String.raw`here(?: is|'s|’s)(?: the| my| a| an| your| our)?(?: \p{L}+(?:-\p{L}+)?)? (?:question|answer|response)`,
  'to (?:formulate|phrase|ask) (?:this|the|a|my) question', 'my (?:question|answer) (?:is|would be)',
  // zh
  String.raw`(?:以下|下面|这)(?:就是|是)(?:我的|一个|你的|您的)?\p{Script=Han}{0,4}?(?:问题|提问|追问|回答|答案|回复)`, '(?:问题|回答|答案)如下', '我的(?:问题|回答)是',
  // ru
  String.raw`вот (?:мой |наш |ваш )?(?:\p{L}+ )?(?:вопрос|ответ)`, '(?:чтобы|для того чтобы) (?:сформулировать|задать) (?:этот |такой )?вопрос', 'мой (?:вопрос|ответ)',
  // fr
  String.raw`voici (?:la|ma|une|votre|notre) (?:\p{L}+ )?(?:question|réponse)`, 'pour (?:formuler|poser|reformuler) (?:cette|la|une|ma) question', 'ma (?:question|réponse) (?:est|serait)',
  // es
  String.raw`aquí (?:está|tienes|va|te dejo) (?:la|mi|una|tu) (?:\p{L}+ )?(?:pregunta|respuesta)`, 'para (?:formular|plantear|hacer) (?:esta|la|una|mi) pregunta', 'mi (?:pregunta|respuesta) (?:es|sería)',
].join('|');
const PREAMBLE_OPENERS = [
  'sure', 'certainly', 'of course', 'okay', 'ok', 'alright', // en
  '好的', '当然', '没问题', // zh
  'конечно', 'хорошо', 'ладно', // ru
  'bien sûr', "d[’']accord", 'certainement', 'très bien', // fr
  'claro', 'por supuesto', 'de acuerdo', 'muy bien', // es
].join('|');
const PREAMBLE_SOURCE = `[ \\t]*(?:¡?(?:${PREAMBLE_OPENERS})[\\s,!.，！。、]*)?(?:${PREAMBLE_WORDS})[^\\n:：]{0,60}[:：]`;
const LEADING_PREAMBLE = new RegExp(`^${PREAMBLE_SOURCE}`, 'iu');
const ANY_PREAMBLE = new RegExp(`^${PREAMBLE_SOURCE}`, 'imu');

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
 * Strips numbering, labels ("Question:", "问题：", "Вопрос:", "Question :", "Pregunta:"), a preamble with the
 * question after it ("Voici la question :"), wrapping quotes and wrapper tags (`<question>…</question>`,
 * `[Question]`), and cuts a trailer after the question (extra lines, an answer, "Your answer would be:"). A question
 * without a trailer is never cut.
 */
export function cleanQuestion(raw: string): string {
  let text = raw.trim();
  for (let pass = 0; pass < 8; pass++) {
    const before = text;
    text = stripWrapperTags(text);
    if (/^\*\*[^*]+\*\*$/u.test(text)) text = text.slice(2, -2).trim();
    text = text.replace(NUMBERING, '').replace(LABEL, '').trim();
    text = stripPreamble(text);
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
 * Strips a leading preamble with an answer after it ("Voici la réponse :"), and cuts an answer where the model
 * starts writing the conversation's next turn itself ("User: …", in the pack's own labels or in English), which
 * small models do. Returns the answer and whether anything was cut at a turn: an answer cut there ended before any
 * token limit did, so it counts as stopped.
 */
export function cleanAnswer(raw: string, labels: { user: string; assistant: string }): { text: string; cut: boolean } {
  const names = [labels.user, labels.assistant, 'User', 'Assistant'].map(escapeRegExp).join('|');
  const speaker = new RegExp(`^[ \\t]*(?:\\*\\*)?(?:${names})(?:\\*\\*)?\\s*[:：]`, 'imu');
  // A speaker label the answer opens with ("Usuario: Porque…", "Assistant: …") is the model's, not the answer's.
  const lead = speaker.exec(raw);
  const text = stripPreamble(lead?.index === 0 && raw.slice(lead[0].length).trim() !== '' ? raw.slice(lead[0].length).trim() : raw);
  const turn = speaker.exec(text);
  if (!turn || turn.index === 0) return { text, cut: false };
  return { text: text.slice(0, turn.index).trim(), cut: true };
}

/** Strips a leading preamble line or clause ending in a colon when something follows it; a bare preamble stays for checkCompletion to drop. */
function stripPreamble(text: string): string {
  const m = LEADING_PREAMBLE.exec(text);
  const rest = m ? text.slice(m[0].length).trim() : '';
  return rest === '' ? text : rest;
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
  /** For a follow-up question: the questions of the earlier turns; asking one again, or nearly, is dropped. */
  earlierQuestions?: string[];
  /** The segment text the dialogue is about: a question copied from it, or an answer copying much of it, is dropped. */
  document?: string;
  /** For an answer: the question it answers; an answer that only repeats it is dropped. */
  question?: string;
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
 * Shingles of the copied-question check: 3 words, or 4 letters for zh, short enough that a 5-word question forms
 * some, long enough that a question reusing a name or a short phrase of the document shares few of them.
 */
export const QUESTION_SHINGLES: ShingleOptions = { words: 3, minWordLength: 1, chars: 4 };
/**
 * A question with at least this share of its QUESTION_SHINGLES in the document is a copied sentence, unless it asks
 * something of its own (a question word not in the document there): "园林为什么在园中读书…？" is a question about
 * the document's "园林在园中读书…", so it is kept; the sentence with "？" appended is not.
 */
export const COPIED_QUESTION_SHARE = 0.8;
/** Below this many shingles a question is too short to call copied (a 2-word "Berlin Wall?" names a topic). */
export const MIN_COPIED_QUESTION_SHINGLES = 3;
/**
 * An answer with at least this share of its 6-word shingles (12-letter for zh) in the document is a copy of it: a
 * real answer quotes a phrase or a sentence and explains, a copy pastes paragraphs.
 */
export const COPIED_ANSWER_SHARE = 0.8;
/** An answer needs this many shingles (about 35 words, 40 zh letters) to be judged a copy: a one-sentence answer may rightly quote. */
export const MIN_COPIED_ANSWER_SHINGLES = 30;
/**
 * Two texts are near-repeats when the words (letters for zh) of the shorter one appear in order in the longer and
 * make up at least this share of it: a word or two added or left out ("代表" + the same question), never a word
 * replaced ("…in linguistics?" vs "…in politics?" are different questions).
 */
export const NEAR_REPEAT_SHARE = 0.8;

// Question words per language: a copied sentence with one of them added by the model reads as a question.
const QUESTION_WORDS = [
  // en
  'what', 'why', 'how', 'when', 'where', 'who', 'whom', 'whose', 'which',
  // zh
  '为什么', '为何', '什么', '怎么', '怎样', '如何', '哪', '谁', '几', '多少', '吗', '呢', '是否',
  // ru
  'почему', 'зачем', 'как', 'какой', 'какая', 'какое', 'какие', 'каким', 'каких', 'что', 'кто', 'где', 'когда', 'сколько', 'ли', 'каков',
  // fr
  'pourquoi', 'comment', 'quand', 'où', 'qui', 'que', 'quoi', 'quel', 'quelle', 'quels', 'quelles', 'combien', 'est-ce',
  // es
  'por qué', 'cómo', 'cuándo', 'dónde', 'quién', 'quiénes', 'qué', 'cuál', 'cuáles', 'cuánto', 'cuánta', 'cuántos', 'cuántas',
];

/**
 * Keeps an output, or drops it: truncated, filtered, empty, an echo of the instructions, a preamble, a word mixing
 * scripts, a question copied from the document or already asked (exactly or nearly), an answer that repeats its
 * question or copies the document, too short, an answer that stops mid-sentence, or not in the target language.
 */
export function checkCompletion(input: CompletionCheckInput, options: CompletionCheckOptions): Verdict {
  if (input.finishReason === 'length') return drop('dialogue_truncated');
  if (input.finishReason === 'content_filter') return drop('dialogue_content_filtered');
  const text = input.text.trim();
  if (text === '') return drop('dialogue_empty');
  if (input.instructions !== undefined && isPromptEcho(text, input.instructions)) return drop('dialogue_prompt_echo');
  if (ANY_PREAMBLE.test(text)) return drop('dialogue_preamble');
  if (hasNewMixedScriptWord(text, input.document ?? '')) return drop('dialogue_mixed_script');
  if (input.role === 'question') {
    if (input.document !== undefined && copiesSentence(text, input.document)) return drop('dialogue_copied_document');
    const earlier = input.earlierQuestions ?? [];
    if (earlier.some((q) => sameQuestion(q, text))) return drop('dialogue_repeated_question');
    if (earlier.some((q) => isNearRepeat(q, text))) return drop('dialogue_near_repeat_question');
  } else {
    if (input.question !== undefined && isNearRepeat(input.question, text)) return drop('dialogue_answer_repeats');
    if (input.document !== undefined && copiesDocument(text, input.document)) return drop('dialogue_answer_repeats');
  }
  const tooShort =
    input.role === 'answer' ? input.tokens < options.minAnswerTokens : [...text].length < options.minQuestionChars;
  if (tooShort) return drop('dialogue_too_short');
  // The quality report counts such an answer as truncated; the gate keeps it out of the dataset in the first place.
  if (input.role === 'answer' && looksTruncated(text)) return drop('dialogue_unfinished');
  const expected = stripLabel(options.expectedLabel ?? input.lang);
  if (stripLabel(options.langId.detect(text).lang) !== expected) return drop('dialogue_wrong_language');
  return KEEP;
}

/** Two questions are the same when they differ only in case, spacing and punctuation. */
function sameQuestion(a: string, b: string): boolean {
  const key = (t: string) => (t.toLowerCase().match(/[\p{L}\p{M}\p{N}]+/gu) ?? []).join(' ');
  return key(a) === key(b);
}

/** The units two texts are compared by: lower-cased words, or letters when either is written without spaces. */
function unitsOf(text: string, unspaced: boolean): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{M}\p{N}]+/gu) ?? [];
  return unspaced ? [...words.join('')] : words;
}

/** True when one text is the other with a few units added or left out (NEAR_REPEAT_SHARE), order kept. */
function isNearRepeat(a: string, b: string): boolean {
  const unspaced = isUnspaced(a) || isUnspaced(b);
  const [short, long] = [unitsOf(a, unspaced), unitsOf(b, unspaced)].sort((x, y) => x.length - y.length);
  if (short.length === 0 || short.length < NEAR_REPEAT_SHARE * long.length) return false;
  let i = 0;
  for (const unit of long) if (unit === short[i]) i++;
  return i === short.length;
}

/** A question that is a document sentence, nearly verbatim, with no question word of its own. */
function copiesSentence(question: string, document: string): boolean {
  const { shared, total } = containment(question, document, QUESTION_SHINGLES);
  if (total < MIN_COPIED_QUESTION_SHINGLES || shared < COPIED_QUESTION_SHARE * total) return false;
  return !asksOfItsOwn(question, document);
}

/** True when the question holds a question word whose neighbourhood (a unit either side) is not in the document. */
function asksOfItsOwn(question: string, document: string): boolean {
  const unspaced = isUnspaced(question);
  const units = unitsOf(question, unspaced);
  const sep = unspaced ? '' : ' ';
  const doc = `${sep}${unitsOf(document, unspaced).join(sep)}${sep}`;
  for (const word of QUESTION_WORDS) {
    const w = unitsOf(word, unspaced);
    for (let i = 0; i + w.length <= units.length; i++) {
      if (!w.every((u, k) => units[i + k] === u)) continue;
      const around = units.slice(Math.max(0, i - 1), i + w.length + 1).join(sep);
      if (!doc.includes(`${sep}${around}${sep}`)) return true;
    }
  }
  return false;
}

/** An answer long enough to judge whose shingles are mostly the document's. */
function copiesDocument(answer: string, document: string): boolean {
  const { shared, total } = containment(answer, document);
  return total >= MIN_COPIED_ANSWER_SHINGLES && shared >= COPIED_ANSWER_SHARE * total;
}

/** Drops a prompt that cannot fit the context window together with the requested completion. */
export function checkPromptFits(input: { promptTokens: number; maxCompletionTokens: number; contextWindow: number }): Verdict {
  return input.promptTokens + input.maxCompletionTokens > input.contextWindow ? drop('dialogue_context_overflow') : KEEP;
}

function stripLabel(label: string): string {
  return label.replace(/^__label__/, '').toLowerCase();
}

/** One dialogue call as the gates see it: what was asked, about which document, after which turns. */
export interface TurnContext {
  role: 'question' | 'answer';
  lang: string;
  /** The messages sent: their system part is what an echo would repeat. */
  messages: ChatMessage[];
  document: string;
  /** The dialogue so far, alternating question and answer. */
  past: string[];
  /** For an answer: the question it answers. */
  question?: string;
}

/**
 * What a dialogue call's reply becomes: normalised (script conversion), cleaned (labels, preambles, trailers) and
 * judged by every gate. The one rule the activity applies and the benches measure.
 */
export function reviewReply(
  reply: { content: string; finishReason: FinishReason },
  turn: TurnContext,
  options: CompletionCheckOptions & { scriptConversion?: ScriptConversion; labels: { user: string; assistant: string }; countTokens: (text: string) => number },
): { text: string; finishReason: FinishReason; verdict: Verdict } {
  const normalised = normaliseOutput(reply.content, { scriptConversion: options.scriptConversion });
  const { text, finishReason } = cleanOutput(turn.role, normalised, reply.finishReason, options.labels);
  const verdict = checkCompletion(
    {
      text,
      finishReason,
      lang: turn.lang,
      role: turn.role,
      tokens: options.countTokens(text),
      instructions: instructionText(turn.messages),
      earlierQuestions: turn.past.filter((_, i) => i % 2 === 0),
      document: turn.document,
      question: turn.question,
    },
    options,
  );
  return { text, finishReason, verdict };
}
