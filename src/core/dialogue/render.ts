/**
 * Prompt rendering for dialogue generation, following Figure 4 of the paper:
 * `{system prompt}{principles} <document>{cultural background}</document> {dialogue history}`.
 * The system prompt and principles form the system message; the document and history form the user message.
 */
import type { ChatMessage } from '../messages';
import type { AnswerKind, QuestionKind } from './plan';
import type { DialoguePack, PromptPart } from './prompt-pack';

/** Inputs of a question generation call; `history` alternates question, answer. */
export interface QuestionPromptInput {
  background: string;
  history: string[];
  kind: QuestionKind;
}

/** Inputs of an answer generation call; `question` is the one to answer now. */
export interface AnswerPromptInput {
  background: string;
  history: string[];
  question: string;
  kind: AnswerKind;
}

/** The pack part used for a question kind. */
export function questionPart(pack: DialoguePack, kind: QuestionKind): PromptPart {
  if (kind === 'initial') return pack.initialQuestion;
  return kind === 'in_depth' ? pack.inDepthQuestion : pack.expansiveQuestion;
}

/** The pack part used for an answer kind. */
export function answerPart(pack: DialoguePack, kind: AnswerKind): PromptPart {
  return kind === 'initial' ? pack.initialAnswer : pack.followupAnswer;
}

/** Renders alternating question/answer texts as labelled lines under the history header; '' when empty. */
export function renderHistory(pack: DialoguePack, history: string[]): string {
  if (history.length === 0) return '';
  const lines = history.map((turn, i) => `${i % 2 === 0 ? pack.labels.user : pack.labels.assistant}: ${turn.trim()}`);
  return `${pack.labels.history}\n${lines.join('\n')}`;
}

/** Messages asking for the next question; the initial question sees an empty history (paper §2.1.2). */
export function renderQuestionMessages(pack: DialoguePack, input: QuestionPromptInput): ChatMessage[] {
  assertCompleteTurns(input.history);
  if ((input.kind === 'initial') !== (input.history.length === 0)) {
    throw new Error(`renderQuestionMessages: kind '${input.kind}' does not fit a history of ${input.history.length} texts`);
  }
  return compose(questionPart(pack, input.kind), input.background, renderHistory(pack, input.history));
}

/** Messages asking for the answer to `question`, which ends the rendered history. */
export function renderAnswerMessages(pack: DialoguePack, input: AnswerPromptInput): ChatMessage[] {
  assertCompleteTurns(input.history);
  if ((input.kind === 'initial') !== (input.history.length === 0)) {
    throw new Error(`renderAnswerMessages: kind '${input.kind}' does not fit a history of ${input.history.length} texts`);
  }
  if (input.question.trim() === '') throw new Error('renderAnswerMessages: empty question');
  return compose(answerPart(pack, input.kind), input.background, renderHistory(pack, [...input.history, input.question]));
}

/** The instruction text of rendered dialogue messages (system prompt and principles), never the document or history. */
export function instructionText(messages: ChatMessage[]): string {
  return messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
}

function compose(part: PromptPart, background: string, history: string): ChatMessage[] {
  const document = `<document>\n${background.trim()}\n</document>`;
  return [
    // Only instructions go in the system message: `instructionText` (the echo gate's reference) relies on it.
    { role: 'system', content: `${part.system}\n\n${part.principles}` },
    { role: 'user', content: history === '' ? document : `${document}\n\n${history}` },
  ];
}

function assertCompleteTurns(history: string[]): void {
  if (history.length % 2 !== 0) {
    throw new Error(`dialogue history must alternate question, answer and hold whole turns; got ${history.length} texts`);
  }
}
