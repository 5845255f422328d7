/** One storage interface, two real backends (local filesystem, S3). Keys are '/'-separated, relative. */
import type { Readable } from 'node:stream';

export interface Storage {
  /** Human-readable location, e.g. `file:///…/state/data` or `s3://bucket/prefix`. */
  readonly location: string;
  /** The whole object, or undefined when absent. */
  get(key: string): Promise<Buffer | undefined>;
  /** UTF-8 text of the object, or undefined when absent. */
  getText(key: string): Promise<string | undefined>;
  /** Bytes [start, end) of the object (for multistream dump ranges). */
  getRange(key: string, start: number, end: number): Promise<Buffer>;
  /** Object size in bytes, or undefined when absent. */
  size(key: string): Promise<number | undefined>;
  /** Atomic write: readers see the old object or the new one, never a partial one. */
  put(key: string, body: Buffer | string): Promise<void>;
  /** Atomic write from a stream (large shards). */
  putStream(key: string, body: Readable): Promise<void>;
  /** Writes only when absent; returns false when the key already existed (idempotent outputs). */
  putIfAbsent(key: string, body: Buffer | string): Promise<boolean>;
  exists(key: string): Promise<boolean>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  /** A stream of the object's bytes. */
  readStream(key: string): Promise<Readable>;
  delete(key: string): Promise<void>;
}
