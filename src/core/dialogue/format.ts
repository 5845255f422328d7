/** Output formatting of language-specific dialogues: `{lang}_chat_specific` lines and their sidecar records. */
import type { DatasetLine, Segment } from '../records';
import type { QuestionKind } from './plan';
import type { DialoguePack } from './prompt-pack';

/** Token use of one LLM call, kept or not (a call whose output failed a gate still cost tokens). */
export interface CallUsage {
  promptTokens: number;
  completionTokens: number;
}

/** Per-dialogue provenance written beside the dataset line (issue 3, Output). */
export interface DialogueSidecar {
  id: string;
  segmentId: string;
  pageId: number;
  title: string;
  turnKinds: QuestionKind[];
  packVersion: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  /** LLM calls made for this dialogue, including the one that ended it at a gate, if any. */
  calls: number;
}

/** The dataset id of the `index`-th (0-based, contiguous) dialogue of a language. */
export function dialogueLineId(lang: string, index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`dialogue index must be an integer >= 0, got ${index}`);
  return `${lang}_chat_specific_${index}`;
}

/** Fills the pack's first-turn framing; one pass, so slot-like text inside the document stays untouched. */
export function frameFirstTurn(pack: DialoguePack, document: string, question: string): string {
  const values: Record<string, string> = { document: document.trim(), question };
  return pack.firstTurnFraming.replace(/\{(document|question)\}/g, (_, slot: string) => values[slot]);
}

/**
 * Builds `{"id": "{lang}_chat_specific_{n}", "data": [q1 (framed with the document), a1, q2, a2, …]}`
 * from the completed turns, given like the prompt history: texts alternating question, answer.
 */
export function formatDialogueLine(input: {
  lang: string;
  index: number;
  background: string;
  turns: string[];
  pack: DialoguePack;
  includeDocument: boolean;
}): DatasetLine {
  const { lang, index, background, turns, pack, includeDocument } = input;
  if (turns.length === 0 || turns.length % 2 !== 0) {
    throw new Error(`formatDialogueLine: need whole question/answer turns, got ${turns.length} texts`);
  }
  const data = [...turns];
  if (includeDocument) data[0] = frameFirstTurn(pack, background, turns[0]);
  return { id: dialogueLineId(lang, index), data };
}

/** Builds the sidecar record of a dialogue, summing the token use of all its calls. */
export function buildDialogueSidecar(input: {
  id: string;
  segment: Pick<Segment, 'id' | 'pageId' | 'title'>;
  turnKinds: QuestionKind[];
  pack: Pick<DialoguePack, 'version'>;
  model: string;
  calls: CallUsage[];
}): DialogueSidecar {
  return {
    id: input.id,
    segmentId: input.segment.id,
    pageId: input.segment.pageId,
    title: input.segment.title,
    turnKinds: [...input.turnKinds],
    packVersion: input.pack.version,
    model: input.model,
    promptTokens: input.calls.reduce((sum, call) => sum + call.promptTokens, 0),
    completionTokens: input.calls.reduce((sum, call) => sum + call.completionTokens, 0),
    calls: input.calls.length,
  };
}
