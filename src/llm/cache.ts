/**
 * Response cache in storage: a re-run, reset or retry after a crash never pays twice for the
 * same call. Keyed by sha256 over a canonical JSON of everything that shapes the answer.
 *
 * Every completion the backend returned is cached, truncated (`length`) ones included: with the
 * same model, messages and sampling params a re-run would get (and pay for) the same truncated
 * answer, which the pipeline then counts as a drop again. Errors never reach the cache.
 */
import { createHash } from 'node:crypto';
import type { Storage } from '../storage/storage';
import type { ChatRequest, ChatResult } from './types';

/** Bump when the key recipe or the stored format changes, so old entries stop matching. */
const CACHE_VERSION = 1;

/** JSON with object keys sorted at every depth and undefined fields dropped; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`canonicalJson: non-finite number ${value}`);
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const fields = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
  return `{${fields.join(',')}}`;
}

/** sha256 hex of (model, messages, maxTokens, temperature, topP, seed, jsonSchema). */
export function cacheKey(model: string, request: ChatRequest): string {
  const material = {
    v: CACHE_VERSION,
    model,
    messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    maxTokens: request.maxTokens,
    temperature: request.temperature,
    topP: request.topP,
    seed: request.seed,
    jsonSchema: request.jsonSchema,
  };
  return createHash('sha256').update(canonicalJson(material)).digest('hex');
}

/** Get/put of cached chat results by `cacheKey`. */
export interface ResponseCache {
  /** The cached result, or undefined on a miss (an unreadable entry counts as a miss). */
  get(key: string): Promise<ChatResult | undefined>;
  /** Stores once; a second put of the same key is a no-op (first answer wins). */
  put(key: string, result: ChatResult): Promise<void>;
  /** Storage key of an entry: `<prefix>/<first 2 hex>/<key>.json`. */
  pathOf(key: string): string;
}

interface CacheEntry {
  v: number;
  key: string;
  result: ChatResult;
}

function isChatResult(x: unknown): x is ChatResult {
  const r = x as ChatResult;
  return (
    !!r &&
    typeof r.content === 'string' &&
    typeof r.finishReason === 'string' &&
    typeof r.promptTokens === 'number' &&
    typeof r.completionTokens === 'number' &&
    typeof r.model === 'string'
  );
}

/** A cache over any Storage backend, fanned out by the first two hex digits of the key. */
export function createResponseCache(storage: Storage, prefix = 'llm-cache'): ResponseCache {
  const root = prefix.replace(/\/+$/, '');

  function pathOf(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`cache key must be 64 lowercase hex digits, got '${key}'`);
    return `${root}/${key.slice(0, 2)}/${key}.json`;
  }

  async function read(path: string): Promise<ChatResult | undefined> {
    const text = await storage.getText(path);
    if (text === undefined) return undefined;
    try {
      const entry = JSON.parse(text) as CacheEntry;
      return entry.v === CACHE_VERSION && isChatResult(entry.result) ? entry.result : undefined;
    } catch {
      return undefined;
    }
  }

  return {
    pathOf,
    get: async (key) => read(pathOf(key)),
    async put(key, result) {
      const path = pathOf(key);
      const entry: CacheEntry = { v: CACHE_VERSION, key, result: pickResult(result) };
      const body = JSON.stringify(entry);
      // Idempotent: concurrent or repeated activities race here and the first answer wins.
      if (await storage.putIfAbsent(path, body)) return;
      // An unreadable entry would otherwise block the key for good; replace it.
      if ((await read(path)) === undefined) await storage.put(path, body);
    },
  };
}

/** Only the ChatResult fields, so backend-specific extras do not leak into stored bytes. */
function pickResult(r: ChatResult): ChatResult {
  return { content: r.content, finishReason: r.finishReason, promptTokens: r.promptTokens, completionTokens: r.completionTokens, model: r.model };
}
