/** JSON and JSONL helpers over Storage, so activities stay thin. */
import type { Storage } from './storage';

/** Parsed JSON object at `key`, or undefined when absent. */
export async function getJson<T>(storage: Storage, key: string): Promise<T | undefined> {
  const text = await storage.getText(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

/** Writes `value` as pretty JSON, atomically. */
export async function putJson(storage: Storage, key: string, value: unknown): Promise<void> {
  await storage.put(key, JSON.stringify(value, null, 2) + '\n');
}

/** Writes records as JSON Lines, atomically. */
export async function putJsonl(storage: Storage, key: string, records: Iterable<unknown>): Promise<void> {
  let body = '';
  for (const r of records) body += JSON.stringify(r) + '\n';
  await storage.put(key, body);
}

/** Parses JSON Lines at `key`; undefined when absent. */
export async function getJsonl<T>(storage: Storage, key: string): Promise<T[] | undefined> {
  const text = await storage.getText(key);
  return text === undefined ? undefined : parseJsonl<T>(text);
}

/** The records of a JSON Lines text (blank lines skipped). */
export function parseJsonl<T>(text: string): T[] {
  return text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as T);
}

/**
 * The outcome stored at `key`, or the one `compute` makes, written there before it is returned: an activity's
 * idempotent step. A retried activity or a resumed build reads what the first attempt wrote, so finished work is
 * never redone or paid twice.
 */
export async function stored<T>(storage: Storage, key: string, compute: () => Promise<T>): Promise<T> {
  const done = await getJson<T>(storage, key);
  if (done !== undefined) return done;
  const value = await compute();
  await putJson(storage, key, value);
  return value;
}
