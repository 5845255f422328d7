import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createFsStorage } from '../../src/storage/fs-storage';
import { createStorage, parseStorageUri, storageConfigSchema } from '../../src/storage/index';
import { describeStorageBehaviour, expectBytes, pattern } from '../storage/storage-behaviour';

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'ul-fs-storage-'));
let n = 0;
const freshDir = () => path.join(tmpRoot, `s${n++}`);
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

describeStorageBehaviour('fs', async () => createFsStorage(freshDir()));

/** Every file under dir, relative, including temp files the listing hides. */
function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('fs storage atomicity', () => {
  it('a reader sees the old object or the new one, never a partial one, while a large put is in flight', async () => {
    const s = createFsStorage(freshDir());
    const size = 16 * 1024 * 1024;
    const oldBody = Buffer.alloc(size, 'a');
    const newBody = Buffer.alloc(size, 'b');
    await s.put('big', oldBody);
    let done = false;
    const writer = s.put('big', newBody).finally(() => (done = true));
    do {
      const got = await s.get('big');
      expect(got?.length).toBe(size);
      expect(got!.equals(oldBody) || got!.equals(newBody), 'a partial or mixed object').toBe(true);
    } while (!done);
    await writer;
    expectBytes(await s.get('big'), newBody);
  });

  it('putStream publishes nothing until the stream ends', async () => {
    const dir = freshDir();
    const s = createFsStorage(dir);
    await s.put('shard', 'old');
    const body = new PassThrough();
    const writing = s.putStream('shard', body);
    body.write(pattern(100_000));
    while (allFiles(dir).length < 2) await new Promise((r) => setImmediate(r)); // the temp file exists
    expect(await s.getText('shard')).toBe('old');
    expect(await s.list('')).toEqual(['shard']);
    body.end(pattern(10));
    await writing;
    expectBytes(await s.get('shard'), Buffer.concat([pattern(100_000), pattern(10)]));
    expect(allFiles(dir)).toEqual(['shard']);
  });

  it('a stream that breaks mid-way keeps the old object and removes its temp file', async () => {
    const dir = freshDir();
    const s = createFsStorage(dir);
    await s.put('shard', 'old');
    const body = new PassThrough();
    const writing = s.putStream('shard', body);
    body.write(pattern(50_000));
    body.destroy(new Error('upstream died'));
    await expect(writing).rejects.toThrow(/upstream died/);
    expect(await s.getText('shard')).toBe('old');
    expect(allFiles(dir)).toEqual(['shard']);
  });

  it('putIfAbsent leaves no temp files, whether it wins or loses', async () => {
    const dir = freshDir();
    const s = createFsStorage(dir);
    await Promise.all(Array.from({ length: 8 }, (_, i) => s.putIfAbsent('x/y', String(i))));
    expect(allFiles(dir)).toEqual([path.join('x', 'y')]);
  });

  it('putIfAbsent is race-safe between processes: each key has exactly one winner', async () => {
    const dir = freshDir();
    const script = path.join(tmpRoot, 'racer.ts');
    const modulePath = path.resolve(__dirname, '../../src/storage/fs-storage.ts');
    writeFileSync(
      script,
      `const { createFsStorage } = require(${JSON.stringify(modulePath)});
const s = createFsStorage(process.argv[2]);
const me = process.argv[3];
Promise.all(Array.from({ length: 40 }, (_, k) => s.putIfAbsent('k/' + k, me))).then((won) => process.send(won, () => process.exit(0)));`,
    );
    const procs = ['p0', 'p1', 'p2', 'p3'];
    const results = await Promise.all(
      procs.map(
        (me) =>
          new Promise<boolean[]>((resolve, reject) => {
            const child = fork(script, [dir, me], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
            child.once('message', (m) => resolve(m as boolean[]));
            child.once('error', reject);
            child.once('exit', (code) => code !== 0 && reject(new Error(`racer ${me} exited ${code}`)));
          }),
      ),
    );
    const s = createFsStorage(dir);
    for (let k = 0; k < 40; k++) {
      const winners = procs.filter((_, p) => results[p][k]);
      expect(winners, `key k/${k}`).toHaveLength(1);
      expect(await s.getText(`k/${k}`)).toBe(winners[0]);
    }
    expect(allFiles(dir)).toHaveLength(40);
  });

  it('treats a directory as no object', async () => {
    const s = createFsStorage(freshDir());
    await s.put('dir/child', 'x');
    expect(await s.get('dir')).toBeUndefined();
    expect(await s.exists('dir')).toBe(false);
    await expect(s.readStream('dir')).rejects.toThrow(/no object dir/);
  });

  it('reports a file:// location', () => {
    expect(createFsStorage('/tmp/some dir').location).toBe('file:///tmp/some%20dir');
  });
});

describe('storage config', () => {
  it.each<[string, unknown, unknown]>([
    ['local default root', { kind: 'local' }, { kind: 'local', root: 'data' }],
    ['s3 defaults for AWS', { kind: 's3', bucket: 'my-bucket' }, { kind: 's3', bucket: 'my-bucket', region: 'us-east-1', prefix: '', forcePathStyle: false }],
    [
      's3 with endpoint turns path style on',
      { kind: 's3', bucket: 'b-1', endpoint: 'http://127.0.0.1:9000' },
      { kind: 's3', bucket: 'b-1', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', prefix: '', forcePathStyle: true },
    ],
    [
      'explicit path style wins',
      { kind: 's3', bucket: 'b-1', endpoint: 'http://minio:9000', forcePathStyle: false, prefix: 'runs/' },
      { kind: 's3', bucket: 'b-1', endpoint: 'http://minio:9000', region: 'us-east-1', prefix: 'runs/', forcePathStyle: false },
    ],
  ])('%s', (_label, input, expected) => {
    expect(storageConfigSchema.parse(input)).toEqual(expected);
  });

  it.each<[string, unknown, string]>([
    ['unknown kind', { kind: 'gcs', bucket: 'b' }, 'kind'],
    ['s3 without bucket', { kind: 's3' }, 'bucket'],
    ['a credential in config', { kind: 's3', bucket: 'bkt', accessKeyId: 'AKIA…' }, 'accessKeyId'],
    ['a secret in config', { kind: 's3', bucket: 'bkt', secretAccessKey: 'x' }, 'secretAccessKey'],
    ['a bad endpoint', { kind: 's3', bucket: 'bkt', endpoint: 'not a url' }, 'endpoint'],
  ])('rejects %s, naming the field', (_label, input, field) => {
    const result = storageConfigSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error!.issues)).toContain(field);
  });

  it('resolves a relative local root against the state dir, an absolute one as is', async () => {
    const state = freshDir();
    const rel = createStorage({ kind: 'local', root: 'data' }, { stateDir: state });
    await rel.put('k', 'v');
    expect(rel.location).toBe(`file://${path.join(state, 'data')}`);
    expect(allFiles(state)).toEqual([path.join('data', 'k')]);
    const abs = createStorage({ kind: 'local', root: '/tmp/elsewhere' }, { stateDir: state });
    expect(abs.location).toBe('file:///tmp/elsewhere');
  });

  it('builds an S3 backend whose location names bucket and prefix', () => {
    const s = createStorage({ kind: 's3', bucket: 'bkt', prefix: 'runs/7', endpoint: 'http://127.0.0.1:1' }, { stateDir: '/x' });
    expect(s.location).toBe('s3://bkt/runs/7/');
  });

  it.each<[string, unknown]>([
    ['s3://bkt', { kind: 's3', bucket: 'bkt', prefix: '', region: 'us-east-1', forcePathStyle: false }],
    ['s3://bkt/runs/a', { kind: 's3', bucket: 'bkt', prefix: 'runs/a', region: 'us-east-1', forcePathStyle: false }],
    [
      's3://bkt/p?endpoint=http://127.0.0.1:9000&region=eu-west-1',
      { kind: 's3', bucket: 'bkt', prefix: 'p', endpoint: 'http://127.0.0.1:9000', region: 'eu-west-1', forcePathStyle: true },
    ],
    ['/local/dir', { kind: 'local', root: '/local/dir' }],
    ['file:///local/dir', { kind: 'local', root: '/local/dir' }],
    ['rel/dir', { kind: 'local', root: '/cwd/rel/dir' }],
  ])('parseStorageUri(%j)', (uri, expected) => {
    expect(parseStorageUri(uri, '/cwd')).toEqual(expected);
  });

  it.each([['gs://bucket/x'], ['s3://bkt/p?accessKeyId=AKIA'], ['']])('parseStorageUri refuses %j', (uri) => {
    expect(() => parseStorageUri(uri, '/cwd')).toThrow();
  });
});
