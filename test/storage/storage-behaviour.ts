/** The behaviour every Storage backend must show; fs (unit) and S3 (integration) tests both run it. */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InvalidKeyError, StorageNotFoundError } from '../../src/storage/keys';
import type { Storage } from '../../src/storage/storage';

/** Keys each backend must refuse, with why. */
export const INVALID_KEYS: Array<[string, string]> = [
  ['', 'empty'],
  ['/abs/key', 'absolute'],
  ['a//b', 'empty segment'],
  ['a/', 'trailing slash'],
  ['../escape', 'parent segment'],
  ['a/../../b', 'parent segment inside'],
  ['a/./b', 'dot segment'],
  ['a\\b', 'backslash'],
  ['a\0b', 'NUL'],
  ['a/.x.ultralink-tmp-1', 'reserved temp marker'],
  [`${'x'.repeat(256)}`, 'segment over 255 bytes'],
];

export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Asserts equal bytes without a deep structural diff, which is minutes and gigabytes on megabyte buffers. */
export function expectBytes(actual: Buffer | undefined, expected: Buffer): void {
  expect(actual, 'object missing').toBeDefined();
  expect(actual!.length, 'length').toBe(expected.length);
  const at = actual!.findIndex((b, i) => b !== expected[i]);
  expect(at, 'first differing byte').toBe(-1);
}

/** Deterministic bytes, so a byte out of place shows up. */
export function pattern(size: number, seed = 0): Buffer {
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i++) buf[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return buf;
}

/** Registers the shared behaviour tests; `fresh` returns an empty storage (a new dir or prefix) per call. */
export function describeStorageBehaviour(name: string, fresh: () => Promise<Storage>): void {
  describe(`${name}: Storage behaviour`, () => {
    it('round-trips buffers and text, reports size and existence, overwrites', async () => {
      const s = await fresh();
      await s.put('docs/en/a.bin', pattern(1000));
      await s.put('docs/en/b.txt', 'héllo 世界');
      expectBytes(await s.get('docs/en/a.bin'), pattern(1000));
      expect(await s.getText('docs/en/b.txt')).toBe('héllo 世界');
      expect(await s.size('docs/en/b.txt')).toBe(Buffer.byteLength('héllo 世界'));
      expect(await s.exists('docs/en/a.bin')).toBe(true);
      await s.put('docs/en/b.txt', 'v2');
      expect(await s.getText('docs/en/b.txt')).toBe('v2');
      await s.put('empty', '');
      expect(await s.size('empty')).toBe(0);
      expect(await s.get('empty')).toEqual(Buffer.alloc(0));
    });

    it('answers undefined/false for a missing key and rejects streams and ranges of it', async () => {
      const s = await fresh();
      expect(await s.get('nope')).toBeUndefined();
      expect(await s.getText('no/such/key')).toBeUndefined();
      expect(await s.size('nope')).toBeUndefined();
      expect(await s.exists('nope')).toBe(false);
      await expect(s.readStream('nope')).rejects.toBeInstanceOf(StorageNotFoundError);
      await expect(s.getRange('nope', 0, 10)).rejects.toBeInstanceOf(StorageNotFoundError);
      await expect(s.getRange('nope', 0, 0)).rejects.toBeInstanceOf(StorageNotFoundError);
    });

    const body = pattern(4096, 3);
    it.each<[string, number, number, Buffer]>([
      ['a prefix', 0, 10, body.subarray(0, 10)],
      ['the middle', 1000, 1500, body.subarray(1000, 1500)],
      ['the whole object', 0, 4096, body],
      ['an end past the size, clipped', 4000, 9000, body.subarray(4000)],
      ['an empty range', 100, 100, Buffer.alloc(0)],
      ['a start at the size', 4096, 4200, Buffer.alloc(0)],
      ['a start past the size', 5000, 6000, Buffer.alloc(0)],
    ])('getRange reads %s', async (_label, start, end, expected) => {
      const s = await fresh();
      await s.put('blob', body);
      expectBytes(await s.getRange('blob', start, end), expected);
    });

    it.each<[string, number, number]>([
      ['negative start', -1, 5],
      ['end before start', 10, 5],
      ['fractional bound', 0.5, 5],
    ])('getRange refuses a %s', async (_label, start, end) => {
      const s = await fresh();
      await s.put('blob', 'x');
      await expect(s.getRange('blob', start, end)).rejects.toBeInstanceOf(RangeError);
    });

    it('putIfAbsent writes once and never overwrites', async () => {
      const s = await fresh();
      expect(await s.putIfAbsent('out/shard-0.jsonl', 'first')).toBe(true);
      expect(await s.putIfAbsent('out/shard-0.jsonl', 'second')).toBe(false);
      expect(await s.getText('out/shard-0.jsonl')).toBe('first');
    });

    it('putIfAbsent from many concurrent callers: exactly one wins and its body is stored', async () => {
      const s = await fresh();
      const callers = 16;
      const results = await Promise.all(Array.from({ length: callers }, (_, i) => s.putIfAbsent('race/key', `caller-${i}`)));
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      expect(winners).toHaveLength(1);
      expect(await s.getText('race/key')).toBe(`caller-${winners[0]}`);
      expect(await s.list('race/')).toEqual(['race/key']);
    });

    it('lists recursively and sorted, by directory or partial prefix', async () => {
      const s = await fresh();
      const keys = ['b/2', 'a/x/1', 'a/x/2', 'a/y', 'ab', 'a/x/10', 'c'];
      for (const k of keys) await s.put(k, k);
      expect(await s.list('')).toEqual(['a/x/1', 'a/x/10', 'a/x/2', 'a/y', 'ab', 'b/2', 'c']);
      expect(await s.list('a/')).toEqual(['a/x/1', 'a/x/10', 'a/x/2', 'a/y']);
      expect(await s.list('a')).toEqual(['a/x/1', 'a/x/10', 'a/x/2', 'a/y', 'ab']);
      expect(await s.list('a/x/1')).toEqual(['a/x/1', 'a/x/10']);
      expect(await s.list('zzz/')).toEqual([]);
    });

    it('streams objects in and out', async () => {
      const s = await fresh();
      const data = pattern(300_000, 5);
      await s.putStream('streamed/obj', Readable.from([data.subarray(0, 1), data.subarray(1, 100_000), data.subarray(100_000)]));
      expectBytes(await s.get('streamed/obj'), data);
      expectBytes(await collect(await s.readStream('streamed/obj')), data);
      await s.putStream('streamed/empty', Readable.from([]));
      expect(await s.get('streamed/empty')).toEqual(Buffer.alloc(0));
    });

    it('a failing putStream leaves no object behind', async () => {
      const s = await fresh();
      const failing = new Readable({
        read() {
          this.push(pattern(1000));
          this.destroy(new Error('source broke'));
        },
      });
      await expect(s.putStream('broken', failing)).rejects.toThrow(/source broke/);
      expect(await s.exists('broken')).toBe(false);
      expect(await s.list('')).toEqual([]);
    });

    it('deletes, and deleting a missing key is a no-op', async () => {
      const s = await fresh();
      await s.put('gone', 'x');
      await s.delete('gone');
      expect(await s.exists('gone')).toBe(false);
      await expect(s.delete('gone')).resolves.toBeUndefined();
    });

    it.each(INVALID_KEYS)('refuses the key %j (%s) on every operation', async (key) => {
      const s = await fresh();
      const ops: Array<() => Promise<unknown>> = [
        () => s.get(key),
        () => s.put(key, 'x'),
        () => s.putIfAbsent(key, 'x'),
        () => s.putStream(key, Readable.from([Buffer.from('x')])),
        () => s.size(key),
        () => s.getRange(key, 0, 1),
        () => s.readStream(key),
        () => s.delete(key),
      ];
      for (const op of ops) await expect(op()).rejects.toBeInstanceOf(InvalidKeyError);
      expect(await s.list('')).toEqual([]);
    });

    it.each([['/abs'], ['../up'], ['a//b']])('refuses the list prefix %j', async (prefix) => {
      const s = await fresh();
      await expect(s.list(prefix)).rejects.toBeInstanceOf(InvalidKeyError);
    });
  });
}
