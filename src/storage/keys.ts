/** Key rules and errors shared by both storage backends, so a key valid on one is valid on the other. */
import { PermanentError } from '../core/errors';

/** Marks in-flight temp files of the fs backend; no key segment may contain it, and listings skip it. */
export const TEMP_MARK = '.ultralink-tmp-';

/** S3 keys are at most 1024 bytes; most filesystems cap a name at 255 bytes. */
const MAX_KEY_BYTES = 1024;
const MAX_SEGMENT_BYTES = 255;

/** A key or prefix that breaks the rules below; a programming error, never retryable. */
export class InvalidKeyError extends PermanentError {
  constructor(message: string) {
    super('InvalidKey', message);
  }
}

/** Raised where the interface cannot answer `undefined` (getRange, readStream on a missing key). */
export class StorageNotFoundError extends Error {
  override readonly name = 'StorageNotFoundError';
}

/** Credentials missing or rejected; permanent until someone fixes the worker's environment. */
export class StorageAuthError extends PermanentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('StorageAuth', message, options);
  }
}

/** Throws InvalidKeyError unless `key` is '/'-separated, relative, with no empty, '.', '..' or temp segments. */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key === '') throw new InvalidKeyError('storage key is empty');
  checkCommon(key, 'key');
  for (const segment of key.split('/')) checkSegment(key, segment, 'key');
}

/** Like assertValidKey, but '' is allowed and the last segment may be empty or partial (S3 prefix semantics). */
export function assertValidPrefix(prefix: string): void {
  if (typeof prefix !== 'string') throw new InvalidKeyError('storage prefix is not a string');
  if (prefix === '') return;
  checkCommon(prefix, 'prefix');
  const segments = prefix.split('/');
  const last = segments.pop() ?? '';
  for (const segment of segments) checkSegment(prefix, segment, 'prefix');
  if (last !== '' && (last === '..' || last.includes(TEMP_MARK))) throw new InvalidKeyError(`storage prefix ${JSON.stringify(prefix)} has a forbidden last segment`);
}

function checkCommon(value: string, what: string): void {
  if (value.startsWith('/')) throw new InvalidKeyError(`storage ${what} ${JSON.stringify(value)} is absolute; keys are relative`);
  if (value.includes('\\') || value.includes('\0')) throw new InvalidKeyError(`storage ${what} ${JSON.stringify(value)} contains a backslash or NUL`);
  if (Buffer.byteLength(value) > MAX_KEY_BYTES) throw new InvalidKeyError(`storage ${what} is longer than ${MAX_KEY_BYTES} bytes`);
}

function checkSegment(value: string, segment: string, what: string): void {
  if (segment === '') throw new InvalidKeyError(`storage ${what} ${JSON.stringify(value)} has an empty segment`);
  if (segment === '.' || segment === '..') throw new InvalidKeyError(`storage ${what} ${JSON.stringify(value)} has a '${segment}' segment`);
  if (segment.includes(TEMP_MARK)) throw new InvalidKeyError(`storage ${what} ${JSON.stringify(value)} uses the reserved marker ${TEMP_MARK}`);
  if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) throw new InvalidKeyError(`storage ${what} has a segment longer than ${MAX_SEGMENT_BYTES} bytes`);
}

/** Sorts keys by code point, the order S3 lists in, so both backends agree. */
export function sortKeys(keys: string[]): string[] {
  return keys.sort((a, b) => {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return Buffer.compare(x, y);
  });
}

/** Throws RangeError unless 0 ≤ start ≤ end with integer bounds. */
export function checkRange(start: number, end: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`bad byte range [${start}, ${end})`);
  }
}
