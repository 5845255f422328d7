/** S3 Storage (AWS S3, MinIO and other S3-compatible servers) over @aws-sdk/client-s3. */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { assertValidKey, assertValidPrefix, checkRange, sortKeys, StorageAuthError, StorageNotFoundError } from './keys';
import type { Storage } from './storage';

/** Where the objects live. Deliberately no credential fields: those come from the worker's environment only. */
export interface S3StorageOptions {
  /** Custom endpoint (MinIO, other S3-compatible servers); unset = AWS. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Key prefix inside the bucket; a trailing '/' is added when missing. */
  prefix: string;
  /** Path-style URLs (`endpoint/bucket/key`), which MinIO and most self-hosted servers need. */
  forcePathStyle: boolean;
  /** Multipart part size for putStream; S3 requires at least 5 MiB for all parts but the last. */
  partSizeBytes?: number;
}

const MIN_PART_BYTES = 5 * 1024 * 1024;
const DEFAULT_PART_BYTES = 8 * 1024 * 1024;
/** AWS answers 409 ConditionalRequestConflict while a concurrent conditional write is settling; retry then. */
const CONDITIONAL_CONFLICT_RETRIES = 5;

/** The env variables the SDK's default provider chain reads; named in every auth error. */
export const S3_CREDENTIAL_HINT =
  'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary credentials), ' +
  "or AWS_PROFILE with a shared credentials file, in the worker's environment";

/**
 * Storage over one bucket and prefix. Credentials come only from the SDK's default provider chain
 * (environment, profiles, instance roles), never from options, because options travel in workflow inputs.
 * PutObject is atomic in S3; putIfAbsent uses `If-None-Match: *` (AWS since 2024-08, MinIO since 2024).
 */
export function createS3Storage(options: S3StorageOptions): Storage {
  const { bucket, region, endpoint, forcePathStyle } = options;
  const prefix = normalizePrefix(options.prefix);
  const partSize = options.partSizeBytes ?? DEFAULT_PART_BYTES;
  if (partSize < MIN_PART_BYTES) throw new RangeError(`partSizeBytes must be at least ${MIN_PART_BYTES}`);
  const client = new S3Client({ region, endpoint, forcePathStyle, maxAttempts: 3 });
  const location = `s3://${bucket}/${prefix}`;

  function objectKey(key: string): string {
    assertValidKey(key);
    return prefix + key;
  }

  /** Runs one SDK call, turning auth failures into StorageAuthError and adding the object to the message. */
  async function call<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw describe(err, op, `${location}${key}`, endpoint);
    }
  }

  async function head(key: string): Promise<number | undefined> {
    const Key = objectKey(key);
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
      return out.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw describe(err, 'HeadObject', `${location}${key}`, endpoint);
    }
  }

  async function getObject(key: string, range?: string) {
    const Key = objectKey(key);
    try {
      return await client.send(new GetObjectCommand({ Bucket: bucket, Key, Range: range }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      if (statusOf(err) === 416) return 'unsatisfiable' as const;
      throw describe(err, 'GetObject', `${location}${key}`, endpoint);
    }
  }

  async function putStreamMultipart(key: string, body: Readable): Promise<void> {
    const Key = objectKey(key);
    // The body may fail between awaits; the for-await below still sees `errored` and throws.
    body.on('error', () => undefined);
    let uploadId: string | undefined;
    const parts: CompletedPart[] = [];
    try {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async (chunk: Buffer): Promise<void> => {
        if (uploadId === undefined) {
          const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }));
          uploadId = created.UploadId;
        }
        const PartNumber = parts.length + 1;
        const out = await client.send(new UploadPartCommand({ Bucket: bucket, Key, UploadId: uploadId, PartNumber, Body: chunk }));
        parts.push({ PartNumber, ETag: out.ETag });
      };
      for await (const piece of body) {
        const buf = typeof piece === 'string' ? Buffer.from(piece) : (piece as Buffer);
        pending.push(buf);
        pendingBytes += buf.length;
        while (pendingBytes >= partSize) {
          const all = Buffer.concat(pending);
          await flush(all.subarray(0, partSize));
          const rest = all.subarray(partSize);
          pending = rest.length > 0 ? [rest] : [];
          pendingBytes = rest.length;
        }
      }
      const tail = Buffer.concat(pending);
      if (uploadId === undefined) {
        // Smaller than one part: a plain PutObject is cheaper and just as atomic.
        await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: tail }));
        return;
      }
      if (tail.length > 0) await flush(tail);
      // The object appears only on Complete, so readers never see a partial upload.
      await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    } catch (err) {
      if (uploadId !== undefined) {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId: uploadId })).catch(() => undefined);
      }
      throw describe(err, 'multipart upload', `${location}${key}`, endpoint);
    }
  }

  const storage: Storage = {
    location,

    async get(key) {
      const out = await getObject(key);
      if (out === undefined || out === 'unsatisfiable') return undefined;
      return call('GetObject', key, async () => Buffer.from(await out.Body!.transformToByteArray()));
    },

    async getText(key) {
      return (await storage.get(key))?.toString('utf8');
    },

    async getRange(key, start, end) {
      checkRange(start, end);
      if (start === end) {
        if ((await head(key)) === undefined) throw new StorageNotFoundError(`no object ${location}${key}`);
        return Buffer.alloc(0);
      }
      // HTTP ranges are inclusive; servers clip an end past the object's size.
      const out = await getObject(key, `bytes=${start}-${end - 1}`);
      if (out === undefined) throw new StorageNotFoundError(`no object ${location}${key}`);
      if (out === 'unsatisfiable') return Buffer.alloc(0);
      return call('GetObject', key, async () => Buffer.from(await out.Body!.transformToByteArray()));
    },

    size: head,

    async put(key, body) {
      const Key = objectKey(key);
      await call('PutObject', key, () => client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: toBuffer(body) })));
    },

    putStream: putStreamMultipart,

    async putIfAbsent(key, body) {
      const Key = objectKey(key);
      for (let attempt = 0; ; attempt++) {
        try {
          await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: toBuffer(body), IfNoneMatch: '*' }));
          return true;
        } catch (err) {
          const status = statusOf(err);
          if (status === 412) return false;
          if (status === 409 && attempt < CONDITIONAL_CONFLICT_RETRIES) {
            await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
            continue;
          }
          throw describe(err, 'PutObject If-None-Match', `${location}${key}`, endpoint);
        }
      }
    },

    async exists(key) {
      return (await head(key)) !== undefined;
    },

    async list(listPrefix) {
      assertValidPrefix(listPrefix);
      const keys: string[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await call('ListObjectsV2', listPrefix, () =>
          client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix + listPrefix, ContinuationToken })),
        );
        for (const obj of page.Contents ?? []) if (obj.Key !== undefined) keys.push(obj.Key.slice(prefix.length));
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken !== undefined);
      return sortKeys(keys);
    },

    async readStream(key) {
      const out = await getObject(key);
      if (out === undefined || out === 'unsatisfiable') throw new StorageNotFoundError(`no object ${location}${key}`);
      return out.Body as Readable;
    },

    async delete(key) {
      const Key = objectKey(key);
      await call('DeleteObject', key, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key })));
    },
  };
  return storage;
}

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '');
  if (trimmed === '') return '';
  const withSlash = trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
  assertValidPrefix(withSlash);
  return withSlash;
}

function toBuffer(body: Buffer | string): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as Error)?.name;
  if (name === 'NoSuchBucket') return false;
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(err) === 404;
}

const AUTH_ERROR_NAMES = new Set([
  'CredentialsProviderError',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
]);

/** Auth failures become StorageAuthError naming the env variables; other errors get the operation and object. */
function describe(err: unknown, op: string, where: string, endpoint: string | undefined): Error {
  if (err instanceof StorageAuthError || err instanceof StorageNotFoundError) return err;
  const e = err as Error;
  const status = statusOf(err);
  const server = endpoint ?? 'AWS S3';
  if (AUTH_ERROR_NAMES.has(e?.name) || status === 401 || status === 403) {
    return new StorageAuthError(`${op} ${where} at ${server} failed: ${e.name}: ${e.message}. S3 credentials are missing or rejected: ${S3_CREDENTIAL_HINT}.`, {
      cause: err,
    });
  }
  if (e?.name === 'NoSuchBucket') return new Error(`${op} ${where}: bucket does not exist at ${server}; create it first`, { cause: err });
  const wrapped = new Error(`${op} ${where} at ${server} failed: ${e?.name}: ${e?.message}`, { cause: err });
  return wrapped;
}
