import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheKey, canonicalJson, createResponseCache } from '../../src/llm/cache';
import type { ChatRequest, ChatResult } from '../../src/llm/types';
import { createFsStorage } from '../../src/storage/fs-storage';
import type { Storage } from '../../src/storage/storage';

const base: ChatRequest = {
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Explain the spring festival.' },
  ],
  maxTokens: 256,
  temperature: 0.7,
  topP: 0.9,
  seed: 7,
  jsonSchema: { name: 'judge', schema: { type: 'object', properties: { a: { type: 'boolean' }, b: { type: 'string' } } } },
};

const result: ChatResult = { content: '春节是中国最重要的节日。', finishReason: 'stop', promptTokens: 20, completionTokens: 12, model: 'm1' };

describe('cacheKey', () => {
  it('is a sha256 hex digest, stable across calls and field order', () => {
    const k = cacheKey('m1', base);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey('m1', structuredClone(base))).toBe(k);
    const reordered: ChatRequest = {
      jsonSchema: { schema: { properties: { b: { type: 'string' }, a: { type: 'boolean' } }, type: 'object' }, name: 'judge' },
      seed: 7,
      topP: 0.9,
      temperature: 0.7,
      maxTokens: 256,
      messages: base.messages.map((m) => ({ content: m.content, role: m.role })),
    };
    expect(cacheKey('m1', reordered)).toBe(k);
  });

  it('ignores fields outside the recipe and treats an absent seed like undefined', () => {
    const extra = { ...base, messages: base.messages.map((m) => ({ ...m, name: 'x' })) } as unknown as ChatRequest;
    expect(cacheKey('m1', extra)).toBe(cacheKey('m1', base));
    const { seed: _seed, ...noSeed } = base;
    expect(cacheKey('m1', noSeed)).toBe(cacheKey('m1', { ...base, seed: undefined }));
  });

  it.each<[string, string, ChatRequest]>([
    ['model', 'm2', base],
    ['message text', 'm1', { ...base, messages: [base.messages[0], { role: 'user', content: 'Explain the spring festival!' }] }],
    ['message role', 'm1', { ...base, messages: [{ ...base.messages[0], role: 'user' }, base.messages[1]] }],
    ['message order', 'm1', { ...base, messages: [base.messages[1], base.messages[0]] }],
    ['maxTokens', 'm1', { ...base, maxTokens: 257 }],
    ['temperature', 'm1', { ...base, temperature: 0 }],
    ['topP', 'm1', { ...base, topP: 1 }],
    ['seed', 'm1', { ...base, seed: 8 }],
    ['no seed', 'm1', { ...base, seed: undefined }],
    ['schema', 'm1', { ...base, jsonSchema: { name: 'judge', schema: { type: 'object' } } }],
    ['no schema', 'm1', { ...base, jsonSchema: undefined }],
  ])('changes with %s', (_name, model, req) => {
    expect(cacheKey(model, req)).not.toBe(cacheKey('m1', base));
  });

  it('canonicalJson sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: [2, { d: 1, c: 2 }], a: undefined, c: null })).toBe('{"b":[2,{"c":2,"d":1}],"c":null}');
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(/non-finite/);
  });
});

describe('createResponseCache over fs storage', () => {
  let dir: string;
  let storage: Storage;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'llm-cache-'));
    storage = createFsStorage(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips a result under <prefix>/<2 hex>/<key>.json', async () => {
    const cache = createResponseCache(storage);
    const key = cacheKey('m1', base);
    expect(await cache.get(key)).toBeUndefined();
    await cache.put(key, result);
    expect(await cache.get(key)).toEqual(result);
    expect(cache.pathOf(key)).toBe(`llm-cache/${key.slice(0, 2)}/${key}.json`);
    expect(JSON.parse(await readFile(path.join(dir, 'llm-cache', key.slice(0, 2), `${key}.json`), 'utf8')).result).toEqual(result);
  });

  it('caches truncated results too, and keeps only ChatResult fields', async () => {
    const cache = createResponseCache(storage, 'custom/prefix/');
    const key = cacheKey('m1', { ...base, maxTokens: 3 });
    const truncated = { ...result, finishReason: 'length' as const, completionTokens: 3, usageEstimated: true };
    await cache.put(key, truncated);
    expect(await cache.get(key)).toEqual({ ...result, finishReason: 'length', completionTokens: 3 });
    expect(await storage.exists(`custom/prefix/${key.slice(0, 2)}/${key}.json`)).toBe(true);
  });

  it('first put wins; a second put of the same key is a no-op', async () => {
    const cache = createResponseCache(storage);
    const key = cacheKey('m1', base);
    await cache.put(key, result);
    await cache.put(key, { ...result, content: 'another answer' });
    expect((await cache.get(key))?.content).toBe(result.content);
    await Promise.all([cache.put(cacheKey('m2', base), result), cache.put(cacheKey('m2', base), { ...result, content: 'x' })]);
    expect([result.content, 'x']).toContain((await cache.get(cacheKey('m2', base)))?.content);
  });

  it('treats an unreadable entry as a miss and replaces it on put', async () => {
    const cache = createResponseCache(storage);
    const key = cacheKey('m1', base);
    await storage.put(cache.pathOf(key), '{"v":1,"result":');
    expect(await cache.get(key)).toBeUndefined();
    await cache.put(key, result);
    expect(await cache.get(key)).toEqual(result);
  });

  it('rejects keys that are not sha256 hex', async () => {
    const cache = createResponseCache(storage);
    await expect(cache.get('../etc/passwd')).rejects.toThrow(/64 lowercase hex/);
    expect(() => cache.pathOf('ABC')).toThrow(/64 lowercase hex/);
  });

  it('ignores entries written with another cache version', async () => {
    const cache = createResponseCache(storage);
    const key = cacheKey('m1', base);
    await storage.put(cache.pathOf(key), JSON.stringify({ v: 0, key, result }));
    expect(await cache.get(key)).toBeUndefined();
  });
});
