/** Storage config schema and the one factory that turns it into a backend. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { createFsStorage } from './fs-storage';
import { createS3Storage } from './s3-storage';
import type { Storage } from './storage';

export type { Storage } from './storage';
export { createFsStorage } from './fs-storage';
export { createS3Storage, S3_CREDENTIAL_HINT, type S3StorageOptions } from './s3-storage';
export { InvalidKeyError, StorageAuthError, StorageNotFoundError } from './keys';

// strictObject: a credential pasted into config (accessKeyId…) is rejected, since config rides in workflow inputs.
const localSchema = z.strictObject({
  kind: z.literal('local'),
  /** Directory of the objects; relative paths resolve against the state dir. */
  root: z.string().min(1).default('data'),
});

const s3Schema = z.strictObject({
  kind: z.literal('s3'),
  /** S3-compatible endpoint (MinIO…); unset = AWS. */
  endpoint: z.url().optional(),
  region: z.string().min(1).default('us-east-1'),
  bucket: z.string().min(3).max(63),
  prefix: z.string().default(''),
  /** Defaults to true when an endpoint is set (MinIO needs path-style), false for AWS. */
  forcePathStyle: z.boolean().optional(),
});

/** `{ kind: 'local', root }` or `{ kind: 's3', endpoint?, region, bucket, prefix, forcePathStyle }`; never credentials. */
export const storageConfigSchema = z
  .discriminatedUnion('kind', [localSchema, s3Schema])
  .transform((c) => (c.kind === 's3' ? { ...c, forcePathStyle: c.forcePathStyle ?? c.endpoint !== undefined } : c));

/** Storage config as written by users. */
export type StorageConfigInput = z.input<typeof storageConfigSchema>;
/** Storage config after defaults (forcePathStyle resolved). */
export type StorageConfig = z.output<typeof storageConfigSchema>;

/** The backend for a config; a relative local root resolves against `stateDir`. */
export function createStorage(config: StorageConfigInput, opts: { stateDir: string }): Storage {
  const c = storageConfigSchema.parse(config);
  if (c.kind === 'local') return createFsStorage(path.resolve(opts.stateDir, c.root));
  return createS3Storage({ endpoint: c.endpoint, region: c.region, bucket: c.bucket, prefix: c.prefix, forcePathStyle: c.forcePathStyle });
}

/**
 * A storage config from a CLI argument: `s3://bucket/prefix[?endpoint=URL&region=R&forcePathStyle=true]`,
 * `file:///dir`, or a path (relative to the working directory, as users expect of CLI paths).
 */
export function parseStorageUri(uri: string, cwd: string = process.cwd()): StorageConfig {
  if (uri.startsWith('s3://')) {
    const url = new URL(uri);
    const q = url.searchParams;
    for (const name of q.keys()) {
      if (!['endpoint', 'region', 'forcePathStyle'].includes(name)) throw new Error(`unknown parameter ${name} in storage URI ${uri}`);
    }
    const pathStyle = q.get('forcePathStyle');
    return storageConfigSchema.parse({
      kind: 's3',
      bucket: url.hostname,
      prefix: decodeURIComponent(url.pathname.replace(/^\//, '')),
      endpoint: q.get('endpoint') ?? undefined,
      region: q.get('region') ?? undefined,
      forcePathStyle: pathStyle === null ? undefined : pathStyle === 'true',
    });
  }
  if (uri.startsWith('file://')) return storageConfigSchema.parse({ kind: 'local', root: fileURLToPath(uri) });
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) throw new Error(`unsupported storage URI ${uri}: use s3://bucket/prefix, file:///dir or a path`);
  if (uri === '') throw new Error('empty storage URI');
  return storageConfigSchema.parse({ kind: 'local', root: path.resolve(cwd, uri) });
}
