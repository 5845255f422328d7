import { HeadObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolEnv } from '../../src/config';
import { startMinio, type MinioServer } from '../../src/devtools/minio';
import { createStorage, StorageAuthError } from '../../src/storage/index';
import { createS3Storage } from '../../src/storage/s3-storage';
import { describeStorageBehaviour, expectBytes, pattern } from './storage-behaviour';

const MiB = 1024 * 1024;
/** Variables the SDK's default credential chain consults; cleared to simulate a worker with no credentials. */
const CREDENTIAL_VARS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_EC2_METADATA_DISABLED',
];

let minio: MinioServer;
let dataDir: string;
const savedEnv: Record<string, string | undefined> = {};
let n = 0;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'ul-minio-'));
  minio = await startMinio({ cacheDir: toolEnv().cacheDir, dataDir, log: (m) => console.log(m) });
  for (const name of CREDENTIAL_VARS) savedEnv[name] = process.env[name];
  // The storage reads credentials only from the environment, exactly as a worker would.
  process.env.AWS_ACCESS_KEY_ID = minio.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = minio.secretAccessKey;
});

afterAll(async () => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await minio?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function fresh(partSizeBytes?: number) {
  return createS3Storage({ endpoint: minio.endpoint, region: minio.region, bucket: minio.bucket, prefix: `case-${n++}`, forcePathStyle: true, partSizeBytes });
}

function adminClient(): S3Client {
  return new S3Client({
    endpoint: minio.endpoint,
    region: minio.region,
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey },
  });
}

/** Runs fn with the credential chain finding nothing (no env, no profile files, no instance metadata). */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const before: Record<string, string | undefined> = {};
  for (const name of CREDENTIAL_VARS) before[name] = process.env[name];
  try {
    for (const name of CREDENTIAL_VARS) delete process.env[name];
    for (const [name, value] of Object.entries(vars)) if (value !== undefined) process.env[name] = value;
    return await fn();
  } finally {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

const NO_PROFILE = {
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/ultralink/credentials',
  AWS_CONFIG_FILE: '/nonexistent/ultralink/config',
  AWS_EC2_METADATA_DISABLED: 'true',
};

describeStorageBehaviour('s3 (MinIO)', async () => fresh());

describe('s3 storage specifics', () => {
  it('putStream of more than one part uses a multipart upload and reassembles the bytes', async () => {
    const s = fresh(5 * MiB);
    const data = pattern(12 * MiB + 123, 9);
    // Uneven chunks, so part boundaries fall inside chunks.
    const chunks = [data.subarray(0, 3 * MiB), data.subarray(3 * MiB, 3 * MiB + 1), data.subarray(3 * MiB + 1)];
    await s.putStream('big/shard.jsonl', Readable.from(chunks));
    expect(await s.size('big/shard.jsonl')).toBe(data.length);
    expectBytes(await s.get('big/shard.jsonl'), data);
    // Range GET across the first part boundary.
    expectBytes(await s.getRange('big/shard.jsonl', 5 * MiB - 10, 5 * MiB + 10), data.subarray(5 * MiB - 10, 5 * MiB + 10));
    const head = await adminClient().send(new HeadObjectCommand({ Bucket: minio.bucket, Key: `${s.location.split('/').slice(3).join('/')}big/shard.jsonl` }));
    expect(head.ETag).toMatch(/-3"?$/); // a multipart ETag ends in -<parts>
  });

  it('a putStream failing after some parts aborts the upload and leaves no object', async () => {
    const s = fresh(5 * MiB);
    const body = new PassThrough();
    const writing = s.putStream('big/broken', body);
    const admin = adminClient();
    const openUploads = async () =>
      // MinIO lists multipart uploads only for an exact object key, not a key prefix.
      (await admin.send(new ListMultipartUploadsCommand({ Bucket: minio.bucket, Prefix: `${s.location.split('/').slice(3).join('/')}big/broken` }))).Uploads ?? [];
    body.write(pattern(6 * MiB));
    for (let i = 0; i < 600 && (await openUploads()).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await openUploads(), 'the upload started').toHaveLength(1);
    body.destroy(new Error('source gone'));
    await expect(writing).rejects.toThrow(/source gone/);
    expect(await s.exists('big/broken')).toBe(false);
    expect(await openUploads()).toEqual([]);
  });

  it('keeps prefixes apart', async () => {
    const a = fresh();
    const b = fresh();
    await a.put('same/key', 'from a');
    await b.put('same/key', 'from b');
    expect(await a.getText('same/key')).toBe('from a');
    expect(await a.list('')).toEqual(['same/key']);
    expect(await b.getText('same/key')).toBe('from b');
  });

  it('createStorage builds a working backend from config, path style on because an endpoint is set', async () => {
    const s = createStorage({ kind: 's3', endpoint: minio.endpoint, bucket: minio.bucket, prefix: 'from-config' }, { stateDir: '/unused' });
    expect(s.location).toBe(`s3://${minio.bucket}/from-config/`);
    expect(await s.putIfAbsent('k', 'v')).toBe(true);
    expect(await s.getText('k')).toBe('v');
  });

  it('with no credentials in the environment, fails with a StorageAuthError naming the variables', async () => {
    await withEnv(NO_PROFILE, async () => {
      const s = fresh();
      for (const op of [() => s.put('k', 'v'), () => s.get('k'), () => s.list('')]) {
        const err = await op().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(StorageAuthError);
        expect((err as Error).message).toMatch(/AWS_ACCESS_KEY_ID/);
        expect((err as Error).message).toMatch(/AWS_SECRET_ACCESS_KEY/);
      }
    });
  });

  it('with wrong credentials, fails with a StorageAuthError naming the variables', async () => {
    await withEnv({ ...NO_PROFILE, AWS_ACCESS_KEY_ID: minio.accessKeyId, AWS_SECRET_ACCESS_KEY: 'wrong-secret-value' }, async () => {
      const s = fresh();
      await expect(s.put('k', 'v')).rejects.toThrow(StorageAuthError);
      await expect(s.exists('k')).rejects.toThrow(/AWS_ACCESS_KEY_ID/);
    });
  });

  it('names a missing bucket', async () => {
    const s = createS3Storage({ endpoint: minio.endpoint, region: minio.region, bucket: 'no-such-bucket', prefix: '', forcePathStyle: true });
    await expect(s.put('k', 'v')).rejects.toThrow(/no-such-bucket.*bucket does not exist/);
  });
});
