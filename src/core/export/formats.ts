/**
 * Training-framework exports of UltraLink lines: ShareGPT `conversations` (from/value) and
 * OpenAI-style `messages` (role/content), as LLaMA-Factory, axolotl and TRL read them.
 */
import type { DatasetLine } from '../records';
import { escapeRegExp } from '../text/regexp';
import type { StripDocument, Subset } from './stats';

/** The export formats. */
export type ExportFormat = 'sharegpt' | 'messages';

/** Export formats, for CLI validation. */
export const EXPORT_FORMATS: readonly ExportFormat[] = ['sharegpt', 'messages'];

/** A chat_specific first turn split into its grounding document and its bare question. */
export interface FirstTurnSplit {
  document: string;
  question: string;
}

/** Splits a first turn; undefined when the turn does not follow the language's template. */
export type DocumentSplitter = (firstTurn: string, lang: string) => FirstTurnSplit | undefined;

/**
 * Builds a splitter from per-language templates holding `{document}` and `{question}` once each
 * (the framing the dialogue stage used). Whitespace runs in the template match any whitespace.
 */
export function templateSplitter(templates: Record<string, string>): DocumentSplitter {
  const compiled = new Map<string, RegExp>();
  for (const [lang, template] of Object.entries(templates)) {
    if (!template.includes('{document}') || !template.includes('{question}')) {
      throw new Error(`first-turn template for ${lang} needs {document} and {question}`);
    }
    const pattern = template
      .split(/(\{document\}|\{question\})/)
      .map((part) => {
        if (part === '{document}') return '(?<document>[\\s\\S]*)';
        if (part === '{question}') return '(?<question>[\\s\\S]*)';
        return escapeRegExp(part.trim()).replace(/\s+/g, '\\s+');
      })
      .join('\\s*');
    compiled.set(lang, new RegExp(`^\\s*${pattern}\\s*$`));
  }
  return (firstTurn, lang) => {
    const m = compiled.get(lang)?.exec(firstTurn);
    if (!m?.groups) return undefined;
    return { document: m.groups.document.trim(), question: m.groups.question.trim() };
  };
}

/** The stats' view of a splitter: the bare question, or the whole turn when it does not match. */
export function stripDocumentWith(split: DocumentSplitter): StripDocument {
  return (firstTurn, lang) => split(firstTurn, lang)?.question ?? firstTurn;
}

/** One ShareGPT message. */
export interface ShareGptMessage {
  from: 'human' | 'gpt' | 'system';
  value: string;
}

/** One ShareGPT record. */
export interface ShareGptRecord {
  id: string;
  conversations: ShareGptMessage[];
}

/** One OpenAI-style message. */
export interface ChatExportMessage {
  role: 'user' | 'assistant' | 'system';
  content: string;
}

/** One OpenAI-style `messages` record. */
export interface MessagesRecord {
  id: string;
  messages: ChatExportMessage[];
}

/** Options of one line's export. */
export interface ExportLineOptions {
  lang: string;
  subset: Subset;
  /** Move the grounding document of chat_specific lines into a system turn. */
  documentAsSystem?: boolean;
  split?: DocumentSplitter;
  /** The sidecar's split for this line; wins over `split`. */
  sidecar?: FirstTurnSplit;
}

/** A line as neutral (role, text) messages; `moved` tells whether the document became a system turn. */
export function toRoles(line: DatasetLine, opts: ExportLineOptions): { messages: Array<{ role: 'system' | 'user' | 'assistant'; text: string }>; moved: boolean } {
  const messages = line.data.map((text, i) => ({ role: i % 2 === 0 ? ('user' as const) : ('assistant' as const), text }));
  if (!opts.documentAsSystem || opts.subset !== 'chat_specific' || messages.length === 0) return { messages, moved: false };
  const split = opts.sidecar ?? opts.split?.(line.data[0], opts.lang);
  if (!split) return { messages, moved: false };
  messages[0] = { role: 'user', text: split.question };
  return { messages: [{ role: 'system', text: split.document }, ...messages], moved: true };
}

const SHAREGPT_FROM = { system: 'system', user: 'human', assistant: 'gpt' } as const;

/** One line as a ShareGPT record. */
export function toShareGpt(line: DatasetLine, opts: ExportLineOptions): ShareGptRecord {
  const { messages } = toRoles(line, opts);
  return { id: line.id, conversations: messages.map((m) => ({ from: SHAREGPT_FROM[m.role], value: m.text })) };
}

/** One line as an OpenAI-style messages record. */
export function toMessages(line: DatasetLine, opts: ExportLineOptions): MessagesRecord {
  const { messages } = toRoles(line, opts);
  return { id: line.id, messages: messages.map((m) => ({ role: m.role, content: m.text })) };
}

/** One line in the requested format. */
export function exportLine(line: DatasetLine, format: ExportFormat, opts: ExportLineOptions): ShareGptRecord | MessagesRecord {
  return format === 'sharegpt' ? toShareGpt(line, opts) : toMessages(line, opts);
}

/** Number of user→assistant turns of an exported record (system turns excluded), for round-trip checks. */
export function exportedTurns(record: ShareGptRecord | MessagesRecord): number {
  const roles = 'conversations' in record ? record.conversations.map((m) => m.from) : record.messages.map((m) => m.role);
  let turns = 0;
  for (let i = 1; i < roles.length; i++) {
    if ((roles[i] === 'gpt' || roles[i] === 'assistant') && (roles[i - 1] === 'human' || roles[i - 1] === 'user')) turns += 1;
  }
  return turns;
}
