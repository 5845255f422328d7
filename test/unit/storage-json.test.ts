import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFsStorage } from '../../src/storage/fs-storage';
import { getJsonl, parseJsonl, putJsonl, stored } from '../../src/storage/json';

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'ul-storage-json-'));
let n = 0;
const fresh = () => createFsStorage(path.join(tmpRoot, `s${n++}`));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

describe('stored', () => {
  it('computes and writes an outcome once; a second call reads it back without computing', async () => {
    const storage = fresh();
    let computed = 0;
    const compute = async () => ({ ok: true, calls: ++computed });
    expect(await stored(storage, 'a/outcome.json', compute)).toEqual({ ok: true, calls: 1 });
    expect(await stored(storage, 'a/outcome.json', compute)).toEqual({ ok: true, calls: 1 });
    expect(computed).toBe(1);
    expect(JSON.parse((await storage.getText('a/outcome.json'))!)).toEqual({ ok: true, calls: 1 });
  });

  it('a compute that throws stores nothing, so the retry computes again', async () => {
    const storage = fresh();
    await expect(stored(storage, 'k.json', async () => Promise.reject(new Error('outage')))).rejects.toThrow('outage');
    expect(await storage.exists('k.json')).toBe(false);
    expect(await stored(storage, 'k.json', async () => 7)).toBe(7);
    expect(await storage.getText('k.json')).toBe('7\n');
  });
});

describe('JSON Lines', () => {
  it('round-trips records, one per line, and reads an absent key as undefined', async () => {
    const storage = fresh();
    await putJsonl(storage, 'x.jsonl', [{ a: 1 }, { b: 'two\nlines' }]);
    expect(await storage.getText('x.jsonl')).toBe('{"a":1}\n{"b":"two\\nlines"}\n');
    expect(await getJsonl(storage, 'x.jsonl')).toEqual([{ a: 1 }, { b: 'two\nlines' }]);
    expect(await getJsonl(storage, 'missing.jsonl')).toBeUndefined();
  });

  it('skips blank lines and throws on a line that is not JSON', () => {
    expect(parseJsonl('{"a":1}\n\n{"a":2}\n')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(() => parseJsonl('{"a":1}\n{oops\n')).toThrow(SyntaxError);
  });
});
