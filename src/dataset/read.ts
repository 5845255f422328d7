/** Streams the lines of a finished dataset from a local directory or a Storage prefix. */
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { DatasetLine } from '../core/records';
import { parseDatasetFileName, sidecarFileName, type DatasetFileName, type SidecarEntry } from '../core/export/stats';
import type { Storage } from '../storage/storage';

/** Where a dataset lives: a local directory path, or a prefix inside a Storage. */
export type DatasetSource = string | { storage: Storage; prefix: string };

/** One dataset file found in a source. */
export interface DatasetFileRef extends DatasetFileName {
  /** Base name, `{lang}_{subset}.jsonl`. */
  file: string;
}

/** Counters of lines skipped while reading a file. */
export interface ReadCounters {
  lines: number;
  malformed: number;
}

function keyOf(prefix: string, name: string): string {
  return prefix ? `${prefix.replace(/\/+$/, '')}/${name}` : name;
}

/** Human-readable location of a source. */
export function describeSource(source: DatasetSource): string {
  return typeof source === 'string' ? path.resolve(source) : keyOf(source.storage.location, source.prefix);
}

/** Base names of every object directly in the source. */
async function listNames(source: DatasetSource): Promise<string[]> {
  if (typeof source === 'string') return (await readdir(source, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  const prefix = source.prefix ? `${source.prefix.replace(/\/+$/, '')}/` : '';
  return (await source.storage.list(prefix)).map((k) => k.slice(prefix.length)).filter((k) => !k.includes('/'));
}

/** The `{lang}_{subset}.jsonl` files of a source, sorted by name. */
export async function listDatasetFiles(source: DatasetSource): Promise<DatasetFileRef[]> {
  const out: DatasetFileRef[] = [];
  for (const name of (await listNames(source)).sort()) {
    const parsed = parseDatasetFileName(name);
    if (parsed) out.push({ file: name, ...parsed });
  }
  return out;
}

async function openStream(source: DatasetSource, name: string): Promise<Readable | undefined> {
  if (typeof source === 'string') {
    const full = path.join(source, name);
    return (await readdir(source)).includes(name) ? createReadStream(full) : undefined;
  }
  const key = keyOf(source.prefix, name);
  return (await source.storage.exists(key)) ? source.storage.readStream(key) : undefined;
}

/** Raw non-empty text lines of a file in the source (nothing when it is absent). */
export async function* readTextLines(source: DatasetSource, name: string): AsyncGenerator<string> {
  const stream = await openStream(source, name);
  if (!stream) return;
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of rl) if (line.trim()) yield line;
  } finally {
    rl.close();
    stream.destroy();
  }
}

/** Parses one dataset line; undefined unless it is `{"id": string, "data": string[]}`. */
export function parseDatasetLine(text: string): DatasetLine | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { id, data } = v as { id?: unknown; data?: unknown };
  if (typeof id !== 'string' || !Array.isArray(data) || !data.every((d) => typeof d === 'string')) return undefined;
  return { id, data: data as string[] };
}

/** The lines of one dataset file; malformed lines are skipped and counted into `counters`. */
export async function* readDatasetLines(source: DatasetSource, file: string, counters: ReadCounters = { lines: 0, malformed: 0 }): AsyncGenerator<DatasetLine> {
  for await (const text of readTextLines(source, file)) {
    counters.lines += 1;
    const line = parseDatasetLine(text);
    if (line) yield line;
    else counters.malformed += 1;
  }
}

/** The `{lang}_chat_specific.meta.jsonl` sidecar by dialogue id (empty when absent; bad lines skipped). */
export async function readSidecar(source: DatasetSource, lang: string): Promise<Map<string, SidecarEntry>> {
  const out = new Map<string, SidecarEntry>();
  for await (const text of readTextLines(source, sidecarFileName(lang))) {
    try {
      const v = JSON.parse(text) as Partial<SidecarEntry>;
      if (typeof v.id !== 'string') continue;
      out.set(v.id, {
        id: v.id,
        question: typeof v.question === 'string' ? v.question : undefined,
        document: typeof v.document === 'string' ? v.document : undefined,
        truncatedTurns: Array.isArray(v.truncatedTurns) ? v.truncatedTurns.filter((t): t is number => typeof t === 'number') : undefined,
      });
    } catch {
      // a bad sidecar line only loses its hint; the dataset line itself is still read
    }
  }
  return out;
}
