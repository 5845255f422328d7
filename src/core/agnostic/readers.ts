/**
 * Streaming readers for the English SFT sources of the language-agnostic stage (paper §2.2): ShareGPT,
 * MetaMathQA, Magicoder OSS-Instruct and Evol-Instruct, in their published layouts (one JSON array, e.g.
 * MetaMathQA's ~400 MB file, or JSON Lines). Memory holds only the record being read, never the whole file.
 */
import { stableHash } from '../random';

/** One raw record of a source file: its 0-based position and text, or why it could not be cut out. */
export type RawRecord = { index: number; raw: string } | { index: number; error: 'agnostic_malformed_truncated' | 'agnostic_malformed_json' };

const WS = new Set([0x20, 0x09, 0x0a, 0x0d, 0xfeff]);
const STRING_STOP = /["\\]/g;

/** Splits a JSON array or JSONL text, given as chunks, into raw records in order (the layout is sniffed from the first character). */
export async function* splitJsonRecords(chunks: AsyncIterable<string>): AsyncGenerator<RawRecord> {
  const iterator = chunks[Symbol.asyncIterator]();
  let first = '';
  // Sniff the layout: skip leading whitespace/BOM until the first significant character.
  for (;;) {
    const next = await iterator.next();
    if (next.done) return;
    first += next.value;
    let i = 0;
    while (i < first.length && WS.has(first.charCodeAt(i))) i++;
    if (i < first.length) {
      first = first.slice(i);
      break;
    }
    first = '';
  }
  const rest: AsyncIterable<string> = {
    [Symbol.asyncIterator]: () => ({ next: () => iterator.next() }),
  };
  if (first.charCodeAt(0) === 0x5b /* [ */) yield* splitArray(first, rest);
  else yield* splitLines(first, rest);
}

async function* splitLines(head: string, rest: AsyncIterable<string>): AsyncGenerator<RawRecord> {
  let carry = '';
  let index = 0;
  const take = function* (chunk: string): Generator<RawRecord> {
    carry += chunk;
    let start = 0;
    for (let nl = carry.indexOf('\n'); nl !== -1; nl = carry.indexOf('\n', start)) {
      const line = carry.slice(start, nl).trim();
      if (line.length > 0) yield { index: index++, raw: line };
      start = nl + 1;
    }
    carry = carry.slice(start);
  };
  yield* take(head);
  for await (const chunk of rest) yield* take(chunk);
  yield* take('\n');
}

async function* splitArray(head: string, rest: AsyncIterable<string>): AsyncGenerator<RawRecord> {
  let depth = 0;
  let inString = false;
  let escape = false;
  let closed = false;
  let index = 0;
  // Text of the element being read that arrived in earlier chunks; `open` says an element has started.
  let pending = '';
  let open = false;
  const out: RawRecord[] = [];

  const scan = (chunk: string): void => {
    let start = open ? 0 : -1;
    let i = 0;
    const n = chunk.length;
    const finish = (end: number): void => {
      const text = (pending + chunk.slice(start, end)).trim();
      pending = '';
      open = false;
      start = -1;
      out.push({ index: index++, raw: text });
    };
    while (i < n) {
      if (closed) {
        i = n;
        break;
      }
      if (inString) {
        if (escape) {
          escape = false;
          i++;
          continue;
        }
        STRING_STOP.lastIndex = i;
        const m = STRING_STOP.exec(chunk);
        if (m === null) {
          i = n;
          break;
        }
        i = m.index + 1;
        if (chunk.charCodeAt(m.index) === 0x5c /* \ */) escape = true;
        else inString = false;
        continue;
      }
      const c = chunk.charCodeAt(i);
      if (depth === 0) {
        // Only the opening bracket matters here; anything before it was skipped by the sniffer.
        if (c === 0x5b) depth = 1;
        i++;
        continue;
      }
      if (depth === 1 && !open && !WS.has(c) && c !== 0x2c /* , */ && c !== 0x5d /* ] */) {
        open = true;
        start = i;
      }
      if (c === 0x22 /* " */) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (depth === 0) {
          if (open) finish(i);
          closed = true;
        }
      } else if (c === 0x2c && depth === 1 && open) finish(i);
      i++;
    }
    if (open) {
      pending += chunk.slice(start === -1 ? 0 : start);
    }
  };

  scan(head);
  yield* out.splice(0);
  for await (const chunk of rest) {
    scan(chunk);
    yield* out.splice(0);
    if (closed) break;
  }
  if (!closed) {
    // The array never closed (cut-off download): the partial element is reported, not parsed.
    if (open || depth > 1) yield { index, error: 'agnostic_malformed_truncated' };
  }
}

/** Parses each raw record; a record that is not valid JSON is reported with its reason and index. */
export async function* parseJsonRecords(
  chunks: AsyncIterable<string>,
): AsyncGenerator<{ index: number; value: unknown } | { index: number; error: string }> {
  for await (const rec of splitJsonRecords(chunks)) {
    if ('error' in rec) {
      yield rec;
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(rec.raw);
    } catch {
      yield { index: rec.index, error: 'agnostic_malformed_json' };
      continue;
    }
    yield { index: rec.index, value };
  }
}

/** The three language-agnostic subsets (§2.2): ShareGPT chat, MetaMath math, Magicoder code. */
export type AgnosticSubset = 'chat' | 'math' | 'code';

/** One English source item, normalised: `turns` alternate question and answer (q, a, q, a, …). */
export interface AgnosticItem {
  sourceId: string;
  subset: AgnosticSubset;
  turns: string[];
  meta?: Record<string, string | number>;
}

/** What a reader yields per source record: a normalised item, or a skipped record with its reason. */
export type ReadResult =
  | { kind: 'record'; index: number; record: AgnosticItem }
  | { kind: 'malformed'; index: number; reason: string };

/** The published source layouts a reader exists for. */
export type SourceFormat = 'sharegpt' | 'metamath' | 'magicoder_oss' | 'magicoder_evol';

type Normalise = (value: Record<string, unknown>, index: number) => AgnosticItem | string;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function* readWith(chunks: AsyncIterable<string>, normalise: Normalise): AsyncGenerator<ReadResult> {
  for await (const rec of parseJsonRecords(chunks)) {
    if ('error' in rec) {
      yield { kind: 'malformed', index: rec.index, reason: rec.error };
      continue;
    }
    if (!isObject(rec.value)) {
      yield { kind: 'malformed', index: rec.index, reason: 'agnostic_malformed_not_object' };
      continue;
    }
    const out = normalise(rec.value, rec.index);
    if (typeof out === 'string') yield { kind: 'malformed', index: rec.index, reason: out };
    else yield { kind: 'record', index: rec.index, record: out };
  }
}

/** Reads a required non-empty string field, or names what is wrong with it. */
function requiredText(value: Record<string, unknown>, field: string): string | { reason: string } {
  const v = value[field];
  if (v === undefined || v === null) return { reason: 'agnostic_malformed_missing_field' };
  if (typeof v !== 'string') return { reason: 'agnostic_malformed_wrong_type' };
  if (v.trim().length === 0) return { reason: 'agnostic_malformed_empty' };
  return v;
}

function pickMeta(value: Record<string, unknown>, fields: string[]): Record<string, string | number> | undefined {
  const meta: Record<string, string | number> = {};
  for (const f of fields) {
    const v = value[f];
    if (typeof v === 'string' || typeof v === 'number') meta[f] = v;
  }
  return Object.keys(meta).length > 0 ? meta : undefined;
}

/** Content-derived id suffix so an index-based id also notices a changed source file. */
function contentTag(...parts: string[]): string {
  return stableHash(parts.join('\u0000')).slice(0, 8);
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.trim().length > 0;
}

const HUMAN_ROLES = new Set(['human', 'user']);
const MODEL_ROLES = new Set(['gpt', 'chatgpt', 'bing', 'bard', 'assistant', 'model']);

/** ShareGPT record → chat item. Turns are cut at the first break in human/gpt alternation (or empty turn) and end on an answer; a lone unanswered question is passed on for the pre-filter to count as `agnostic_no_answer`. */
export function normaliseShareGpt(value: Record<string, unknown>, index: number): AgnosticItem | string {
  const conversations = value.conversations;
  if (conversations === undefined || conversations === null) return 'agnostic_malformed_missing_field';
  if (!Array.isArray(conversations)) return 'agnostic_malformed_wrong_type';
  if (conversations.length === 0) return 'agnostic_malformed_empty';
  const roles: Array<{ role: 'q' | 'a'; text: string }> = [];
  let systemTurns = 0;
  for (const turn of conversations) {
    if (!isObject(turn) || typeof turn.from !== 'string' || typeof turn.value !== 'string') return 'agnostic_malformed_wrong_type';
    const from = turn.from.toLowerCase();
    if (from === 'system') systemTurns++;
    else if (HUMAN_ROLES.has(from)) roles.push({ role: 'q', text: turn.value });
    else if (MODEL_ROLES.has(from)) roles.push({ role: 'a', text: turn.value });
    else return 'agnostic_malformed_unknown_role';
  }
  let start = 0;
  while (start < roles.length && roles[start].role === 'a') start++;
  const turns: string[] = [];
  for (let i = start; i < roles.length; i++) {
    const expected = turns.length % 2 === 0 ? 'q' : 'a';
    if (roles[i].role !== expected || roles[i].text.trim().length === 0) break;
    turns.push(roles[i].text);
  }
  if (turns.length === 0) return start > 0 && start === roles.length ? 'agnostic_malformed_no_question' : 'agnostic_malformed_empty';
  // An unanswered last question is cut unless it is all there is (then the pre-filter drops it with a reason).
  if (turns.length % 2 === 1 && turns.length > 1) turns.pop();
  const trimmedTurns = roles.length - turns.length;
  const meta: Record<string, string | number> = {};
  if (trimmedTurns > 0) meta.trimmedTurns = trimmedTurns;
  if (systemTurns > 0) meta.systemTurns = systemTurns;
  return { sourceId: shareGptId(value, conversations, index), subset: 'chat', turns, ...(Object.keys(meta).length > 0 ? { meta } : {}) };
}

/** Upstream id when present (`id`, else `conversation_id`, else `meta.id`), else a hash of the conversation. */
function shareGptId(value: Record<string, unknown>, conversations: unknown[], index: number): string {
  if (nonEmptyString(value.id)) return value.id;
  if (nonEmptyString(value.conversation_id)) return value.conversation_id;
  if (isObject(value.meta) && nonEmptyString(value.meta.id)) return value.meta.id;
  return `sharegpt-${index}-${contentTag(JSON.stringify(conversations))}`;
}

/** MetaMathQA record (`query`, `response`, `type`, `original_question`) → math item; id = index + content tag. */
export function normaliseMetaMath(value: Record<string, unknown>, index: number): AgnosticItem | string {
  const query = requiredText(value, 'query');
  if (typeof query !== 'string') return query.reason;
  const response = requiredText(value, 'response');
  if (typeof response !== 'string') return response.reason;
  const meta = pickMeta(value, ['type', 'original_question']);
  return { sourceId: `metamath-${index}-${contentTag(query, response)}`, subset: 'math', turns: [query, response], ...(meta ? { meta } : {}) };
}

/** Magicoder OSS-Instruct record (`problem`, `solution`, `lang`, `index`/`raw_index`, `seed`) → code item. */
export function normaliseMagicoderOss(value: Record<string, unknown>, index: number): AgnosticItem | string {
  const problem = requiredText(value, 'problem');
  if (typeof problem !== 'string') return problem.reason;
  const solution = requiredText(value, 'solution');
  if (typeof solution !== 'string') return solution.reason;
  const meta = pickMeta(value, ['lang', 'index', 'raw_index']);
  const upstream = typeof value.index === 'number' || nonEmptyString(value.index) ? String(value.index) : String(index);
  return { sourceId: `oss-${upstream}-${contentTag(problem, solution)}`, subset: 'code', turns: [problem, solution], ...(meta ? { meta } : {}) };
}

/** Magicoder Evol-Instruct record (`instruction`, `response`) → code item; id = index + content tag. */
export function normaliseMagicoderEvol(value: Record<string, unknown>, index: number): AgnosticItem | string {
  const instruction = requiredText(value, 'instruction');
  if (typeof instruction !== 'string') return instruction.reason;
  const response = requiredText(value, 'response');
  if (typeof response !== 'string') return response.reason;
  return { sourceId: `evol-${index}-${contentTag(instruction, response)}`, subset: 'code', turns: [instruction, response] };
}

/** Streams ShareGPT (JSON array or JSONL) as chat items. */
export function readShareGpt(chunks: AsyncIterable<string>): AsyncGenerator<ReadResult> {
  return readWith(chunks, normaliseShareGpt);
}

/** Streams MetaMathQA (one JSON array) as math items. */
export function readMetaMath(chunks: AsyncIterable<string>): AsyncGenerator<ReadResult> {
  return readWith(chunks, normaliseMetaMath);
}

/** Streams Magicoder OSS-Instruct (JSONL) as code items. */
export function readMagicoderOss(chunks: AsyncIterable<string>): AsyncGenerator<ReadResult> {
  return readWith(chunks, normaliseMagicoderOss);
}

/** Streams Magicoder Evol-Instruct (JSONL) as code items. */
export function readMagicoderEvol(chunks: AsyncIterable<string>): AsyncGenerator<ReadResult> {
  return readWith(chunks, normaliseMagicoderEvol);
}

/** The reader for a configured source format. */
export function readerFor(format: SourceFormat): (chunks: AsyncIterable<string>) => AsyncGenerator<ReadResult> {
  switch (format) {
    case 'sharegpt':
      return readShareGpt;
    case 'metamath':
      return readMetaMath;
    case 'magicoder_oss':
      return readMagicoderOss;
    case 'magicoder_evol':
      return readMagicoderEvol;
  }
}
