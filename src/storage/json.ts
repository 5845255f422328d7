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
  if (text === undefined) return undefined;
  return text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as T);
}
